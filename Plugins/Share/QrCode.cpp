#include "Share/QrCode.h"

#include <qrencode.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace HospitalBridge {

QrCode::QrCode(const std::string& text) {
  QRcode* code = QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M);
  if (code == nullptr) throw std::runtime_error("cannot encode the QR code (text too long?)");
  size_ = code->width;
  modules_.resize(static_cast<size_t>(size_) * size_);
  // libqrencode's bit 0 of each byte is the module's colour (1 = dark).
  for (size_t i = 0; i < modules_.size(); i++) modules_[i] = code->data[i] & 1;
  QRcode_free(code);
}

namespace {
void PutUint32(std::string& out, uint32_t value) {
  out += static_cast<char>((value >> 24) & 0xff);
  out += static_cast<char>((value >> 16) & 0xff);
  out += static_cast<char>((value >> 8) & 0xff);
  out += static_cast<char>(value & 0xff);
}

void PutChunk(std::string& png, const char* type, const std::string& data) {
  PutUint32(png, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  png += body;
  PutUint32(png, static_cast<uint32_t>(
                     crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}
}  // namespace

std::string QrCode::Png(int scale) const {
  if (scale < 1 || scale > 64) throw std::invalid_argument("QR scale must be 1-64");
  const int modules = size_ + 2 * kQuietZone;
  const int pixels = modules * scale;
  const int rowBytes = (pixels + 7) / 8;

  // Raw scanlines, 1 bit per pixel with 1 = white. The first line of each
  // module row is written as is (filter 0); its repeats use the "Up" filter
  // (2), which turns them into zeros that deflate to almost nothing.
  std::string raw;
  raw.reserve(static_cast<size_t>(rowBytes + 1) * pixels);
  std::string row(static_cast<size_t>(rowBytes) + 1, '\0');
  std::string repeat(static_cast<size_t>(rowBytes) + 1, '\0');
  repeat[0] = 2;
  for (int my = 0; my < modules; my++) {
    std::fill(row.begin(), row.end(), '\0');
    const int y = my - kQuietZone;
    for (int px = 0; px < pixels; px++) {
      const int mx = px / scale - kQuietZone;
      const bool dark = mx >= 0 && mx < size_ && y >= 0 && y < size_ && Dark(mx, y);
      if (!dark) row[1 + px / 8] = static_cast<char>(row[1 + px / 8] | (0x80 >> (px % 8)));
    }
    raw += row;
    for (int r = 1; r < scale; r++) raw += repeat;
  }

  // Run-length deflate suits the long runs of identical bytes here. It only
  // looks one byte back, so a 1 KiB window and little memory do: setting up
  // zlib's default 256 KiB state took longer than the compression itself.
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, 10, 2, Z_RLE) != Z_OK)
    throw std::runtime_error("zlib init failed");
  std::string compressed(deflateBound(&stream, static_cast<uLong>(raw.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(&raw[0]);
  stream.avail_in = static_cast<uInt>(raw.size());
  stream.next_out = reinterpret_cast<Bytef*>(&compressed[0]);
  stream.avail_out = static_cast<uInt>(compressed.size());
  const int result = deflate(&stream, Z_FINISH);
  compressed.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("zlib failed to compress the QR image");

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  PutUint32(header, static_cast<uint32_t>(pixels));
  PutUint32(header, static_cast<uint32_t>(pixels));
  header += std::string("\x01\x00\x00\x00\x00", 5);  // 1-bit, grayscale, deflate, no filter, no interlace
  PutChunk(png, "IHDR", header);
  PutChunk(png, "IDAT", compressed);
  PutChunk(png, "IEND", "");
  return png;
}

std::string QrCode::Svg() const {
  const int modules = size_ + 2 * kQuietZone;
  std::string path;
  for (int y = 0; y < size_; y++) {
    for (int x = 0; x < size_; x++) {
      if (!Dark(x, y)) continue;
      // Runs of dark modules on a row become one rectangle.
      int run = 1;
      while (x + run < size_ && Dark(x + run, y)) run++;
      path += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" +
              std::to_string(run) + "v1h-" + std::to_string(run) + "z";
      x += run - 1;
    }
  }
  const std::string side = std::to_string(modules);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " + side +
         "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\"><rect width=\"" + side +
         "\" height=\"" + side + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

}  // namespace HospitalBridge
