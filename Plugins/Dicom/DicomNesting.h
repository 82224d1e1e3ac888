#pragma once
// Walks the element structure of a DICOM file without interpreting values,
// to find how deeply its sequences nest. Orthanc 1.10.1's DICOM toolkit
// parses sequences recursively on an HTTP thread with a small stack: a file
// nested some 48 levels deep kills the whole server (measured; newer DCMTK
// fixes it). This walker is iterative, bounded, and runs before Orthanc sees
// the file.
//
// The walk follows what a parser would do: explicit and implicit VR, little
// and big endian, defined and undefined lengths, items inside sequences,
// sequences hidden in implicit-VR or UN elements (a value that starts with an
// item tag), encapsulated pixel data, and the deflated transfer syntax. Where
// the file's framing is broken the walk stops there and leaves the verdict
// to Orthanc, which refuses such files itself.
#include <cstddef>
#include <string>

namespace HospitalBridge {

struct NestingCheck {
  bool acceptable = true;
  int deepest = 0;     // sequence levels seen (0: no sequence)
  std::string reason;  // when not acceptable, for the person who sent it
};

// `maxDepth`: sequence levels allowed (a sequence inside an item of a
// sequence is level 2). `maxInflatedBytes` bounds a deflated dataset.
NestingCheck CheckDicomNesting(const std::string& file, int maxDepth,
                               size_t maxInflatedBytes = size_t(1) << 30);

}  // namespace HospitalBridge
