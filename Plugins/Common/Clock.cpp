#include "Common/Clock.h"

#include "Common/Time.h"

namespace HospitalBridge {

int64_t SystemClock::NowMs() const { return Time::WallClockMilliseconds(); }

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace HospitalBridge
