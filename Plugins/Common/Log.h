#pragma once
// Logging for the core without knowing about Orthanc: the adapter installs a
// sink that forwards to Orthanc's log; unit tests keep the default (stderr).
// Never pass a password, token or other secret to these functions.
#include <functional>
#include <string>

namespace HospitalBridge {
namespace Log {

enum class Level { kInfo, kWarning, kError };
using Sink = std::function<void(Level, const std::string&)>;

void SetSink(Sink sink);
void Info(const std::string& message);
void Warning(const std::string& message);
void Error(const std::string& message);

}  // namespace Log
}  // namespace HospitalBridge
