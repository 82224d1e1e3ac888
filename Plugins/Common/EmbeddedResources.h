#pragma once
// Files compiled into the plugin at build time (Resources/ and WebAssets/).
#include <cstddef>
#include <string>

namespace HospitalBridge {

struct EmbeddedFile {
  const char* path;  // relative to the project root, e.g. "WebAssets/index.html"
  const unsigned char* data;
  size_t size;
};

const EmbeddedFile* EmbeddedFiles(size_t& count);

// Returns false when no file is embedded under that path.
bool FindEmbeddedFile(const std::string& path, std::string& content);

}  // namespace HospitalBridge
