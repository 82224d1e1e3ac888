#include "Common/Http.h"

#include "Common/Json.h"

namespace HospitalBridge {

std::string HttpRequest::Header(const std::string& lowerCaseName) const {
  auto found = headers.find(lowerCaseName);
  return found == headers.end() ? "" : found->second;
}

std::string HttpRequest::Query(const std::string& name) const {
  auto found = query.find(name);
  return found == query.end() ? "" : found->second;
}

std::string HttpRequest::Cookie(const std::string& name) const {
  const std::string header = Header("cookie");
  size_t position = 0;
  while (position < header.size()) {
    size_t end = header.find(';', position);
    if (end == std::string::npos) end = header.size();
    std::string pair = header.substr(position, end - position);
    size_t first = pair.find_first_not_of(' ');
    if (first != std::string::npos) pair = pair.substr(first);
    size_t equals = pair.find('=');
    if (equals != std::string::npos && pair.substr(0, equals) == name) return pair.substr(equals + 1);
    position = end + 1;
  }
  return "";
}

HttpResponse HttpResponse::Json(const Json::Value& value, int status) {
  HttpResponse response;
  response.status = status;
  response.body = JsonText::Write(value);
  return response;
}

HttpResponse HttpResponse::Error(int status, const std::string& error, const std::string& detail) {
  Json::Value body(Json::objectValue);
  body["error"] = error;
  body["detail"] = detail;
  return Json(body, status);
}

HttpResponse HttpResponse::Redirect(const std::string& location) {
  HttpResponse response;
  response.status = 301;
  response.location = location;
  response.contentType = "text/plain";
  return response;
}

HttpResponse HttpResponse::SeeOther(const std::string& location) {
  HttpResponse response;
  response.status = 303;
  response.location = location;
  response.contentType = "text/plain";
  response.AddHeader("Location", location);
  return response;
}

std::string UrlDecode(const std::string& text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

int HttpStatusOf(DomainError::Kind kind) {
  switch (kind) {
    case DomainError::Kind::kInvalid:
      return 400;
    case DomainError::Kind::kForbidden:
      return 403;
    case DomainError::Kind::kNotFound:
      return 404;
    case DomainError::Kind::kConflict:
      return 409;
    case DomainError::Kind::kGone:
      return 410;
    case DomainError::Kind::kTooLarge:
      return 413;
    case DomainError::Kind::kUnavailable:
      return 503;
  }
  return 500;
}

std::string CanonicalPath(const std::string& path) {
  std::string canonical;
  canonical.reserve(path.size() + 1);
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) canonical.append("/").append(path, start, slash - start);
    start = slash + 1;
  }
  return canonical.empty() ? "/" : canonical;
}

}  // namespace HospitalBridge
