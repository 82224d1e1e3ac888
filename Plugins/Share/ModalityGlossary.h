#pragma once
// Plain words for patients about what a modality is, and the window presets
// that make sense for it in the phone viewer.
#include <string>
#include <vector>

namespace HospitalBridge {

struct ModalityWords {
  std::string name;  // "CT scan"
  std::string text;  // one or two sentences for a lay reader
};

// Unknown codes get a neutral description naming the code.
ModalityWords DescribeModality(const std::string& code);

struct WindowPreset {
  std::string id;  // "lung"
  double center = 0;
  double width = 0;
};

// "default" (the file's own window) first; the others only where grey levels
// are calibrated, which for the modalities here means CT in Hounsfield units.
std::vector<std::string> PresetsFor(const std::string& modality);
// False for "default" and for unknown names.
bool FindPreset(const std::string& id, WindowPreset& preset);

}  // namespace HospitalBridge
