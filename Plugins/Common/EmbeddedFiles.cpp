#include "Common/EmbeddedResources.h"

namespace HospitalBridge {

bool FindEmbeddedFile(const std::string& path, std::string& content) {
  size_t count = 0;
  const EmbeddedFile* files = EmbeddedFiles(count);
  for (size_t i = 0; i < count; i++) {
    if (path == files[i].path) {
      content.assign(reinterpret_cast<const char*>(files[i].data), files[i].size);
      return true;
    }
  }
  return false;
}

}  // namespace HospitalBridge
