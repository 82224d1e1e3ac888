#pragma once
// The plugin's version, as CMake's project() says (HOSPITALBRIDGE_VERSION):
// shown on /bridge/system, in the audit trail and to Orthanc.
namespace HospitalBridge {

extern const char kPluginVersion[];

}  // namespace HospitalBridge
