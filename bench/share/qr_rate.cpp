// QR PNG generation rate on one core: what /bridge/shares/{id}/qr.png costs
// beyond HTTP. Usage: hb-bench-share-qr [seconds]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../common/BenchSupport.h"
#include "Common/Crypto.h"
#include "Share/QrCode.h"

using namespace HospitalBridge;

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  // A realistic link: an HTTPS host name and a fresh 22-character token.
  const std::string base = "https://images.general-hospital.example/s/";
  size_t bytes = 0;
  int count = 0;
  double svgElapsed = 0;
  const auto start = BenchSupport::Clock::now();
  while (BenchSupport::Seconds(start) < seconds) {
    QrCode code(base + Crypto::NewToken());
    bytes += code.Png(8).size();
    count++;
  }
  const double elapsed = BenchSupport::Seconds(start);
  int svgCount = 0;
  const auto svgStart = BenchSupport::Clock::now();
  while (BenchSupport::Seconds(svgStart) < seconds / 3) {
    bytes += QrCode(base + Crypto::NewToken()).Svg().size();
    svgCount++;
  }
  svgElapsed = BenchSupport::Seconds(svgStart);
  std::printf(
      "QR PNG (scale 8, link of %zu characters): %d in %.2f s = %.0f per second on one core, %.0f bytes "
      "each\n",
      base.size() + 22, count, elapsed, count / elapsed, static_cast<double>(bytes) / (count + svgCount));
  std::printf("QR SVG: %.0f per second\n", svgCount / svgElapsed);
  return 0;
}
