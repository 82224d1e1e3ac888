#pragma once
// Fills the server-side pages (Resources/Templates/*.html). The patient's
// landing and notice pages must work before any script runs, and the slip
// embeds its QR code, so these few pages are rendered here rather than by
// page scripts. Every value is HTML-escaped unless the template asks for raw
// markup with triple braces, which only server-generated SVG uses.
//
//   {{name}}               the escaped value ("" when unknown)
//   {{{name}}}             the raw value
//   {{#name}}...{{/name}}  kept when the value is set (not "", "0" or "false")
//   {{^name}}...{{/name}}  kept when it is not
#include <map>
#include <string>

namespace HospitalBridge {

using TemplateValues = std::map<std::string, std::string>;

std::string HtmlEscape(const std::string& text);

// Throws std::runtime_error for an unclosed section (a broken template is a
// build problem, found by the unit tests).
std::string RenderTemplate(const std::string& text, const TemplateValues& values);

// Renders Resources/Templates/<name> as embedded at build time.
std::string RenderEmbeddedTemplate(const std::string& name, const TemplateValues& values);

}  // namespace HospitalBridge
