#include "Common/Log.h"

#include <iostream>
#include <mutex>

#include "Common/Text.h"

namespace HospitalBridge {
namespace Log {
namespace {
std::mutex sinkMutex;
Sink& CurrentSink() {
  static Sink sink;
  return sink;
}

void Emit(Level level, const std::string& raw) {
  // Messages quote what clients sent (user names, paths, DICOM tags).
  const std::string message = Text::EscapeForLog(raw);
  std::lock_guard<std::mutex> lock(sinkMutex);
  if (CurrentSink()) {
    CurrentSink()(level, message);
  } else {
    static const char* const kNames[] = {"I", "W", "E"};
    std::cerr << kNames[static_cast<int>(level)] << " HospitalBridge: " << message << std::endl;
  }
}
}  // namespace

void SetSink(Sink sink) {
  std::lock_guard<std::mutex> lock(sinkMutex);
  CurrentSink() = std::move(sink);
}
void Info(const std::string& message) { Emit(Level::kInfo, message); }
void Warning(const std::string& message) { Emit(Level::kWarning, message); }
void Error(const std::string& message) { Emit(Level::kError, message); }

}  // namespace Log
}  // namespace HospitalBridge
