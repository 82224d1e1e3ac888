#pragma once
// QR codes for share links, drawn as PNG (for screens and zbarimg) and as SVG
// (sharp at any print size). libqrencode computes the modules; the images
// are written here, so no image library is needed.
#include <string>
#include <vector>

namespace HospitalBridge {

class QrCode {
 public:
  // Error correction M (15%): survives a crease or a smudge on a paper slip
  // while keeping a 60-character link at version 4 (33 modules), easy for
  // a phone camera. Throws std::runtime_error if libqrencode fails.
  explicit QrCode(const std::string& text);

  int Size() const { return size_; }
  bool Dark(int x, int y) const { return modules_[static_cast<size_t>(y) * size_ + x] != 0; }

  // 1-bit grayscale PNG; `scale` pixels per module, with the 4-module quiet
  // zone the standard asks for.
  std::string Png(int scale) const;
  // One <path> of unit squares in a viewBox of modules (quiet zone
  // included); the page sets its printed size.
  std::string Svg() const;

  static constexpr int kQuietZone = 4;

 private:
  int size_ = 0;
  std::vector<unsigned char> modules_;
};

}  // namespace HospitalBridge
