#include "Dicom/UploadCheck.h"

#include "Common/ZipReader.h"
#include "Dicom/DicomNesting.h"

namespace HospitalBridge {
namespace {
const size_t kMaxZipEntryBytes = size_t(2) << 30;
}  // namespace

std::string RefuseDicomUpload(const std::string& body) {
  if (ZipReader::LooksLikeZip(body)) {
    ZipReader zip;
    std::string error;
    if (!zip.Open(body, error)) return "the ZIP archive cannot be read: " + error;
    for (const ZipReader::Entry& entry : zip.Entries()) {
      if (!entry.name.empty() && entry.name.back() == '/') continue;  // a folder
      std::string content;
      if (!zip.Read(entry, kMaxZipEntryBytes, content, error))
        return "the ZIP archive cannot be read: " + error;
      const NestingCheck check = CheckDicomNesting(content, kMaxDicomSequenceNesting);
      if (!check.acceptable) return entry.name + ": " + check.reason;
    }
    return "";
  }
  const NestingCheck check = CheckDicomNesting(body, kMaxDicomSequenceNesting);
  return check.acceptable ? "" : check.reason;
}

}  // namespace HospitalBridge
