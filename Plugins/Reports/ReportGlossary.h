#pragma once
// Plain words for patients: what the common terms of a radiology report
// mean, shown beside the report on the patient's pages (with what the
// modality is, from the share module's glossary).
#include <string>
#include <vector>

namespace HospitalBridge {

struct GlossaryTerm {
  std::string term;     // "effusion"
  std::string meaning;  // for a lay reader
};

const std::vector<GlossaryTerm>& ReportGlossary();
// The terms that appear in `text` (whole words, any case, plurals too), in
// the glossary's order.
std::vector<GlossaryTerm> TermsIn(const std::string& text);

}  // namespace HospitalBridge
