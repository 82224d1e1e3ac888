#pragma once
// The check every DICOM upload gets before Orthanc parses it, whatever way it
// comes in (REST, a ZIP of a CD, the watch folder, another plugin): Orthanc
// 1.10.1 dies on a file whose sequences nest some 48 levels deep (measured),
// so files nested beyond kMaxDicomSequenceNesting are refused, each file of a
// ZIP included.
#include <string>

namespace HospitalBridge {

// Well below the depth measured to crash Orthanc; real structured reports
// nest a dozen levels at most.
constexpr int kMaxDicomSequenceNesting = 32;

// Why the upload (one DICOM file, or a ZIP of them) must be refused, for the
// person who sent it; "" when Orthanc may have it.
std::string RefuseDicomUpload(const std::string& body);

}  // namespace HospitalBridge
