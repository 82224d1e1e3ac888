#pragma once
// The time a service sees. Services take an IClock so tests move time forward
// instead of rewriting timestamps with SQL; the plugin passes SystemClock.
#include <cstdint>

namespace HospitalBridge {

class IClock {
 public:
  virtual ~IClock() = default;
  // Wall-clock time, milliseconds since the Unix epoch (UTC): what is stored.
  virtual int64_t NowMs() const = 0;
  int64_t NowSeconds() const { return NowMs() / 1000; }
};

class SystemClock : public IClock {
 public:
  int64_t NowMs() const override;
  static const SystemClock& Instance();
};

}  // namespace HospitalBridge
