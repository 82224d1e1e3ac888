#include "Reports/ReportGlossary.h"

#include <cctype>

namespace HospitalBridge {

const std::vector<GlossaryTerm>& ReportGlossary() {
  static const std::vector<GlossaryTerm> terms = {
      {"impression", "The radiologist's summary: the main conclusions of the report."},
      {"findings", "What the radiologist saw on the images, described part by part."},
      {"unremarkable", "Normal: nothing of concern was seen."},
      {"normal", "As expected in a healthy person."},
      {"abnormality", "Something that differs from what is usually seen; not always a problem."},
      {"lesion", "An area that looks different from the tissue around it. It can be harmless or not."},
      {"nodule", "A small round spot. Most are harmless; some are checked again later."},
      {"mass", "A lump or growth; further tests tell what it is."},
      {"cyst", "A small sac filled with fluid, usually harmless."},
      {"opacity", "An area that looks whiter on an X-ray or CT, for example fluid or thickened tissue."},
      {"consolidation",
       "Part of the lung filled with fluid or inflammation instead of air, as in pneumonia."},
      {"effusion", "Fluid collected where there should be little or none, for example around the lung."},
      {"atelectasis", "A part of the lung that is partly collapsed and holds less air."},
      {"pneumothorax", "Air between the lung and the chest wall, which can make the lung collapse."},
      {"fracture", "A break or crack in a bone."},
      {"haemorrhage", "Bleeding."},
      {"hemorrhage", "Bleeding."},
      {"oedema", "Swelling caused by fluid in the tissues."},
      {"edema", "Swelling caused by fluid in the tissues."},
      {"stenosis", "A narrowing, for example of a blood vessel or a canal."},
      {"calcification", "A small deposit of calcium; often harmless and common with age."},
      {"benign", "Not cancer."},
      {"malignant", "Cancerous."},
      {"contrast", "A dye given to make some parts show better on the images."},
      {"enhancement", "A part that takes up the contrast dye and looks brighter."},
      {"hydronephrosis", "Swelling of a kidney because urine does not drain well."},
      {"cardiomegaly", "An enlarged heart."},
      {"degenerative", "Changes from wear and tear, common with age."},
      {"infarct", "An area of tissue damaged because its blood supply was cut off."},
      {"addendum", "An addition to the report, signed after the first version."},
      {"preliminary", "A first reading, before the final report."},
  };
  return terms;
}

namespace {

std::string Lower(const std::string& text) {
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// `word` as a whole word (or followed by "s"/"es") somewhere in `text`.
bool HasWord(const std::string& text, const std::string& word) {
  size_t at = text.find(word);
  while (at != std::string::npos) {
    const bool startOk = at == 0 || !IsWordChar(text[at - 1]);
    size_t end = at + word.size();
    if (end < text.size() && text[end] == 's')
      end++;
    else if (end + 1 < text.size() && text[end] == 'e' && text[end + 1] == 's')
      end += 2;
    const bool endOk = end >= text.size() || !IsWordChar(text[end]);
    if (startOk && endOk) return true;
    at = text.find(word, at + 1);
  }
  return false;
}

}  // namespace

std::vector<GlossaryTerm> TermsIn(const std::string& text) {
  const std::string lower = Lower(text);
  std::vector<GlossaryTerm> found;
  for (const GlossaryTerm& term : ReportGlossary()) {
    if (HasWord(lower, term.term)) found.push_back(term);
  }
  return found;
}

}  // namespace HospitalBridge
