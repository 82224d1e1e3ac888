#pragma once
// HTTP as the core sees it, independent of Orthanc's SDK: the adapter turns
// Orthanc's request into an HttpRequest and writes the HttpResponse back.
#include <json/json.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "Common/Errors.h"

namespace HospitalBridge {

struct HttpRequest {
  std::string method;                          // "GET", "POST", "PUT", "DELETE"
  std::string path;                            // without the query string, e.g. "/bridge/studies"
  std::map<std::string, std::string> headers;  // names in lower case
  std::map<std::string, std::string> query;
  std::string body;
  // The client's address: the TCP peer's, or the one a trusted reverse proxy
  // forwarded (ClientAddress resolves it before anything else reads it).
  std::string remoteIp;
  std::string connectionIp;  // the TCP peer (the proxy, behind one)
  bool secure = false;       // the client used HTTPS (to Orthanc, or to a trusted proxy)

  std::string Header(const std::string& lowerCaseName) const;
  std::string Query(const std::string& name) const;
  bool HasQuery(const std::string& name) const { return query.count(name) > 0; }
  std::string Cookie(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json; charset=utf-8";
  std::string body;
  std::string location;  // for redirects
  std::vector<std::pair<std::string, std::string>> headers;
  // A large answer written piece by piece instead of `body`: called once,
  // after the route returned, with a function that sends one piece (false
  // when the client went away). The adapter streams the pieces where
  // Orthanc's SDK can (1.12.6 and later) and gathers them first where it
  // cannot.
  using PieceWriter = std::function<bool(const std::string&)>;
  std::function<void(const PieceWriter&)> stream;

  static HttpResponse Json(const Json::Value& value, int status = 200);
  static HttpResponse Error(int status, const std::string& error, const std::string& detail = "");
  static HttpResponse Redirect(const std::string& location);
  // 303 See Other, with the headers set on the response (Set-Cookie): the
  // answer to a form that must lead to a page by GET.
  static HttpResponse SeeOther(const std::string& location);
  void AddHeader(const std::string& name, const std::string& value) { headers.emplace_back(name, value); }
};

// The one place where a domain error becomes an HTTP status.
int HttpStatusOf(DomainError::Kind kind);

// "%2F" → "/", "+" kept as is (paths), and for query strings "+" → " ".
std::string UrlDecode(const std::string& text, bool plusIsSpace);

// The one form of a path that the gate, the routes and the audit see:
// repeated and trailing slashes dropped ("/bridge//login/" → "/bridge/login",
// "" → "/"). Orthanc routes both forms alike, so they must be judged alike.
std::string CanonicalPath(const std::string& path);

}  // namespace HospitalBridge
