#include "Common/Version.h"

namespace HospitalBridge {

const char kPluginVersion[] = HOSPITALBRIDGE_VERSION;

}  // namespace HospitalBridge
