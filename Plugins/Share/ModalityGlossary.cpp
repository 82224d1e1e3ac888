#include "Share/ModalityGlossary.h"

#include <map>

namespace HospitalBridge {

ModalityWords DescribeModality(const std::string& code) {
  static const std::map<std::string, ModalityWords> kWords = {
      {"CR",
       {"X-ray", "An X-ray picture, taken with a small dose of radiation. Bones show white, air dark."}},
      {"DX",
       {"X-ray",
        "A digital X-ray picture, taken with a small dose of radiation. Bones show white, air dark."}},
      {"CT",
       {"CT scan",
        "A CT scanner takes many X-ray images around the body and builds slices through it. Scroll through "
        "the slices to move through the body."}},
      {"MR",
       {"MRI scan",
        "An MRI scanner uses a strong magnet and radio waves, without X-rays, to show soft tissues in "
        "slices."}},
      {"US",
       {"Ultrasound",
        "Pictures made with sound waves, without radiation, for example of organs or a pregnancy."}},
      {"MG", {"Mammogram", "Low-dose X-ray pictures of the breast."}},
      {"NM",
       {"Nuclear medicine", "Pictures of where a small amount of a radioactive tracer went in the body."}},
      {"PT",
       {"PET scan", "Pictures of the body's activity, made with a small amount of a radioactive tracer."}},
      {"XA",
       {"Angiography", "X-ray pictures of blood vessels, taken while a contrast liquid flows through them."}},
      {"RF", {"Fluoroscopy", "Moving X-ray pictures, for example while swallowing a contrast drink."}},
      {"OT", {"Other images", "Images from the hospital's imaging department."}},
      {"SR", {"Report", "A structured report or measurements attached to the images."}},
  };
  auto found = kWords.find(code);
  if (found != kWords.end()) return found->second;
  return {code.empty() ? "Images" : code + " images",
          "Medical images from the hospital. Ask your doctor what they show."};
}

namespace {
// Common centre/width pairs in Hounsfield units.
const std::vector<WindowPreset>& CtPresets() {
  static const std::vector<WindowPreset> kPresets = {
      {"soft-tissue", 40, 400}, {"lung", -600, 1500}, {"bone", 400, 1800},
      {"brain", 40, 80},        {"abdomen", 50, 350},
  };
  return kPresets;
}
}  // namespace

std::vector<std::string> PresetsFor(const std::string& modality) {
  std::vector<std::string> ids = {"default"};
  if (modality == "CT") {
    for (const WindowPreset& preset : CtPresets()) ids.push_back(preset.id);
  }
  return ids;
}

bool FindPreset(const std::string& id, WindowPreset& preset) {
  for (const WindowPreset& candidate : CtPresets()) {
    if (candidate.id == id) {
      preset = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace HospitalBridge
