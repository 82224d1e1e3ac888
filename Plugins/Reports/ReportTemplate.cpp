#include "Reports/ReportTemplate.h"

#include <algorithm>
#include <set>

#include "Common/Errors.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace {

const size_t kMaxSections = 40;
const size_t kMaxOptions = 60;
const size_t kMaxTextBytes = 20000;

std::string StringField(const Json::Value& object, const char* name, const std::string& where, size_t max,
                        bool required) {
  const Json::Value& value = object[name];
  if (value.isNull()) {
    if (required) throw DomainError::Invalid("Invalid template", where + name + " is missing");
    return "";
  }
  if (!value.isString() || value.asString().size() > max) {
    throw DomainError::Invalid("Invalid template", where + name + " must be a string of at most " +
                                                       std::to_string(max) + " characters");
  }
  return Text::Trim(value.asString());
}

std::vector<std::string> StringList(const Json::Value& value, const std::string& where, size_t maxItems,
                                    size_t maxLength) {
  std::vector<std::string> list;
  if (value.isNull()) return list;
  if (!value.isArray() || value.size() > maxItems) {
    throw DomainError::Invalid("Invalid template",
                               where + " must be a list of at most " + std::to_string(maxItems) + " strings");
  }
  for (const Json::Value& item : value) {
    if (!item.isString() || Text::Trim(item.asString()).empty() || item.asString().size() > maxLength) {
      throw DomainError::Invalid("Invalid template", where + " must hold non-empty strings of at most " +
                                                         std::to_string(maxLength) + " characters");
    }
    list.push_back(Text::Trim(item.asString()));
  }
  return list;
}

bool IsChoice(const std::string& type) { return type == "choice" || type == "multichoice"; }

}  // namespace

const std::vector<std::string>& TemplateFieldTypes() {
  static const std::vector<std::string> types = {"text", "line", "choice", "multichoice"};
  return types;
}

const TemplateSection* ReportTemplate::Find(const std::string& sectionId) const {
  for (const TemplateSection& section : sections) {
    if (section.id == sectionId) return &section;
  }
  return nullptr;
}

Json::Value ReportTemplate::Definition() const {
  Json::Value definition(Json::objectValue);
  definition["sections"] = Json::Value(Json::arrayValue);
  for (const TemplateSection& section : sections) {
    Json::Value item(Json::objectValue);
    item["id"] = section.id;
    item["label"] = section.label;
    item["type"] = section.type;
    if (IsChoice(section.type)) {
      item["options"] = Json::Value(Json::arrayValue);
      for (const std::string& option : section.options) item["options"].append(option);
    }
    if (!section.defaultValue.empty()) item["default"] = section.defaultValue;
    if (section.required) item["required"] = true;
    definition["sections"].append(item);
  }
  return definition;
}

Json::Value ReportTemplate::ToJson() const {
  Json::Value json(Json::objectValue);
  json["id"] = key;
  json["key"] = key;
  json["version"] = version;
  json["name"] = name;
  json["modalities"] = Json::Value(Json::arrayValue);
  for (const std::string& modality : modalities) json["modalities"].append(modality);
  json["exam"] = exam;
  json["sections"] = Definition()["sections"];
  json["active"] = active;
  json["created_by"] = createdBy;
  return json;
}

ReportTemplate ParseTemplate(const Json::Value& body, const std::string& routeKey) {
  if (!body.isObject()) throw DomainError::Invalid("Invalid template", "the body must be a JSON object");
  for (const std::string& name : body.getMemberNames()) {
    static const std::set<std::string> known = {"key",  "id",       "name",  "modalities",
                                                "exam", "sections", "active"};
    if (known.count(name) == 0) throw DomainError::Invalid("Invalid template", "unknown field: " + name);
  }
  ReportTemplate parsed;
  parsed.key = routeKey.empty() ? StringField(body, "key", "", 64, true) : routeKey;
  if (!Text::IsIdentifier(parsed.key, "-_", 1, 64)) {
    throw DomainError::Invalid("Invalid template", "key: 1 to 64 letters, digits, '-' or '_'");
  }
  parsed.name = StringField(body, "name", "", 200, true);
  if (parsed.name.empty()) throw DomainError::Invalid("Invalid template", "name must not be empty");
  parsed.exam = StringField(body, "exam", "", 100, false);
  parsed.modalities = StringList(body["modalities"], "modalities", 20, 16);
  for (const std::string& modality : parsed.modalities) {
    if (!Text::IsIdentifier(modality, "", 1, 16)) {
      throw DomainError::Invalid("Invalid template",
                                 "modalities: \"" + modality + "\" is not a modality code");
    }
  }
  if (body.isMember("active")) {
    if (!body["active"].isBool())
      throw DomainError::Invalid("Invalid template", "active must be true or false");
    parsed.active = body["active"].asBool();
  }
  const Json::Value& sections = body["sections"];
  if (!sections.isArray() || sections.empty() || sections.size() > kMaxSections) {
    throw DomainError::Invalid(
        "Invalid template", "sections must be a list of 1 to " + std::to_string(kMaxSections) + " sections");
  }
  std::set<std::string> ids;
  for (Json::ArrayIndex i = 0; i < sections.size(); i++) {
    const std::string where = "sections[" + std::to_string(i) + "].";
    const Json::Value& item = sections[i];
    if (!item.isObject()) throw DomainError::Invalid("Invalid template", where + " must be an object");
    for (const std::string& name : item.getMemberNames()) {
      static const std::set<std::string> known = {"id", "label", "type", "options", "default", "required"};
      if (known.count(name) == 0)
        throw DomainError::Invalid("Invalid template", "unknown field: " + where + name);
    }
    TemplateSection section;
    section.id = StringField(item, "id", where, 64, true);
    if (!Text::IsIdentifier(section.id, "-_", 1, 64)) {
      throw DomainError::Invalid("Invalid template", where + "id: 1 to 64 letters, digits, '-' or '_'");
    }
    if (!ids.insert(section.id).second) {
      throw DomainError::Invalid("Invalid template", where + "id: \"" + section.id + "\" is used twice");
    }
    section.label = StringField(item, "label", where, 200, true);
    if (section.label.empty())
      throw DomainError::Invalid("Invalid template", where + "label must not be empty");
    section.type = StringField(item, "type", where, 32, true);
    const std::vector<std::string>& types = TemplateFieldTypes();
    if (std::find(types.begin(), types.end(), section.type) == types.end()) {
      throw DomainError::Invalid("Invalid template", where + "type: unknown field type \"" + section.type +
                                                         "\"; known: text, line, choice, multichoice");
    }
    section.options = StringList(item["options"], where + "options", kMaxOptions, 200);
    if (IsChoice(section.type) && section.options.empty()) {
      throw DomainError::Invalid("Invalid template", where + "options: a " + section.type + " needs options");
    }
    if (!IsChoice(section.type) && !section.options.empty()) {
      throw DomainError::Invalid("Invalid template", where + "options: only choice sections have options");
    }
    section.defaultValue = StringField(item, "default", where, kMaxTextBytes, false);
    if (item.isMember("required")) {
      if (!item["required"].isBool()) {
        throw DomainError::Invalid("Invalid template", where + "required must be true or false");
      }
      section.required = item["required"].asBool();
    }
    parsed.sections.push_back(section);
  }
  return parsed;
}

std::vector<TemplateSection> SectionsFromDefinition(const Json::Value& definition) {
  std::vector<TemplateSection> sections;
  for (const Json::Value& item : definition["sections"]) {
    TemplateSection section;
    section.id = item["id"].asString();
    section.label = item["label"].asString();
    section.type = item["type"].asString();
    for (const Json::Value& option : item["options"]) section.options.push_back(option.asString());
    section.defaultValue = item.get("default", "").asString();
    section.required = item.get("required", false).asBool();
    sections.push_back(section);
  }
  return sections;
}

void CheckSectionValues(const ReportTemplate& reportTemplate, const Json::Value& sections) {
  if (sections.isNull()) return;
  if (!sections.isObject()) {
    throw DomainError::Invalid("Invalid report", "sections must be an object of section id to value");
  }
  for (const std::string& id : sections.getMemberNames()) {
    const TemplateSection* section = reportTemplate.Find(id);
    if (section == nullptr) {
      throw DomainError::Invalid("Invalid report", "sections." + id + ": the template \"" +
                                                       reportTemplate.key + "\" has no such section");
    }
    const Json::Value& value = sections[id];
    const std::string where = "sections." + id;
    if (section->type == "multichoice") {
      if (!value.isArray())
        throw DomainError::Invalid("Invalid report", where + " must be a list of options");
      for (const Json::Value& choice : value) {
        if (!choice.isString() || std::find(section->options.begin(), section->options.end(),
                                            choice.asString()) == section->options.end()) {
          throw DomainError::Invalid("Invalid report", where + ": not one of the section's options");
        }
      }
      continue;
    }
    if (!value.isString()) throw DomainError::Invalid("Invalid report", where + " must be text");
    const std::string text = value.asString();
    if (text.size() > kMaxTextBytes) {
      throw DomainError::Invalid("Invalid report",
                                 where + ": at most " + std::to_string(kMaxTextBytes) + " characters");
    }
    if (section->type == "line" && text.find('\n') != std::string::npos) {
      throw DomainError::Invalid("Invalid report", where + " is one line");
    }
    if (section->type == "choice" && !text.empty() &&
        std::find(section->options.begin(), section->options.end(), text) == section->options.end()) {
      throw DomainError::Invalid("Invalid report", where + ": \"" + text + "\" is not one of the options");
    }
  }
}

std::vector<std::string> MissingRequiredSections(const ReportTemplate& reportTemplate,
                                                 const Json::Value& sections) {
  std::vector<std::string> missing;
  for (const TemplateSection& section : reportTemplate.sections) {
    if (!section.required) continue;
    if (Text::Trim(SectionText(sections.isObject() ? sections[section.id] : Json::Value())).empty()) {
      missing.push_back(section.id);
    }
  }
  return missing;
}

std::string SectionText(const Json::Value& value) {
  if (value.isString()) return value.asString();
  if (value.isArray()) {
    std::string joined;
    for (const Json::Value& item : value) {
      if (!item.isString()) continue;
      if (!joined.empty()) joined += ", ";
      joined += item.asString();
    }
    return joined;
  }
  return "";
}

}  // namespace HospitalBridge
