#pragma once
// A report template: named sections, each free text, a line, or a pick-list
// (one choice or several). Administrators edit templates; each edit is a new
// version, and a report keeps the version it was written with.
#include <json/json.h>

#include <cstdint>
#include <string>
#include <vector>

namespace HospitalBridge {

struct TemplateSection {
  std::string id;     // "findings": letters, digits, '_' and '-'
  std::string label;  // "Findings"
  std::string type;   // text | line | choice | multichoice
  std::vector<std::string> options;
  std::string defaultValue;
  bool required = false;
};

struct ReportTemplate {
  int64_t id = 0;  // the row of this version
  std::string key;
  int version = 0;
  std::string name;
  std::vector<std::string> modalities;
  std::string exam;
  std::vector<TemplateSection> sections;
  bool active = true;
  int64_t createdAt = 0;
  std::string createdBy;

  const TemplateSection* Find(const std::string& sectionId) const;
  // {"sections": [...]}: what is stored.
  Json::Value Definition() const;
  Json::Value ToJson() const;
};

// The section types a template may use.
const std::vector<std::string>& TemplateFieldTypes();

// A template from an administrator's JSON ({"key", "name", "modalities",
// "exam", "sections"}; `key` may come from the route instead). Throws
// DomainError (invalid) naming the offending field: an unknown field type
// is refused as `sections[2].type: unknown field type "slider"`.
ReportTemplate ParseTemplate(const Json::Value& body, const std::string& routeKey = "");
// The sections of a stored definition (trusted: written by ParseTemplate).
std::vector<TemplateSection> SectionsFromDefinition(const Json::Value& definition);

// Checks a draft's section values against the template: known sections only,
// text where text goes, choices among the options. Throws DomainError
// (invalid) naming the section.
void CheckSectionValues(const ReportTemplate& reportTemplate, const Json::Value& sections);
// The required sections left empty (for sign-off).
std::vector<std::string> MissingRequiredSections(const ReportTemplate& reportTemplate,
                                                 const Json::Value& sections);
// A section's value as one line of text (choices joined by ", ").
std::string SectionText(const Json::Value& value);

}  // namespace HospitalBridge
