#include "Common/HtmlTemplate.h"

#include <stdexcept>

#include "Common/EmbeddedResources.h"

namespace HospitalBridge {

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {
bool IsSet(const TemplateValues& values, const std::string& name) {
  auto found = values.find(name);
  return found != values.end() && !found->second.empty() && found->second != "0" && found->second != "false";
}

std::string Lookup(const TemplateValues& values, const std::string& name) {
  auto found = values.find(name);
  return found == values.end() ? std::string() : found->second;
}
}  // namespace

std::string RenderTemplate(const std::string& text, const TemplateValues& values) {
  std::string out;
  out.reserve(text.size() + 256);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      out.append(text, pos, std::string::npos);
      break;
    }
    out.append(text, pos, open - pos);
    const bool raw = text.compare(open, 3, "{{{") == 0;
    const size_t nameStart = open + (raw ? 3 : 2);
    const size_t close = text.find(raw ? "}}}" : "}}", nameStart);
    if (close == std::string::npos)
      throw std::runtime_error("template: unclosed {{ at " + std::to_string(open));
    std::string name = text.substr(nameStart, close - nameStart);
    pos = close + (raw ? 3 : 2);
    if (raw) {
      out += Lookup(values, name);
    } else if (!name.empty() && (name[0] == '#' || name[0] == '^')) {
      const std::string flag = name.substr(1);
      const std::string end = "{{/" + flag + "}}";
      const size_t endAt = text.find(end, pos);
      if (endAt == std::string::npos)
        throw std::runtime_error("template: section " + flag + " is not closed");
      const bool keep = (name[0] == '#') == IsSet(values, flag);
      if (keep) out += RenderTemplate(text.substr(pos, endAt - pos), values);
      pos = endAt + end.size();
    } else {
      out += HtmlEscape(Lookup(values, name));
    }
  }
  return out;
}

std::string RenderEmbeddedTemplate(const std::string& name, const TemplateValues& values) {
  std::string text;
  if (!FindEmbeddedFile("Resources/Templates/" + name, text)) {
    throw std::runtime_error("the embedded template " + name + " is missing (build problem)");
  }
  return RenderTemplate(text, values);
}

}  // namespace HospitalBridge
