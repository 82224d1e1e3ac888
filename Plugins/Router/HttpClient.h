#pragma once
// Outbound HTTP(S) for the router's destinations (DICOMweb, FHIR, OAuth2,
// SATUSEHAT), behind an interface that unit tests replace. The real client is
// libcurl with certificate and host name verification always on; a
// destination may name its own CA file.
#include <string>
#include <utility>
#include <vector>

namespace HospitalBridge {

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string username;  // HTTP Basic when not empty
  std::string password;
  std::string caFile;  // "" = the system's CAs
  long timeoutMs = 30000;
};

struct HttpResult {
  bool reached = false;  // an HTTP answer came back
  long status = 0;
  std::string body;
  std::string contentType;
  std::string error;  // why it was not reached (timeout, refused, certificate)
  // The server's certificate was not trusted (or the CA file is unreadable):
  // no retry fixes that until an administrator does.
  bool certificateRejected = false;
};

class IHttpClient {
 public:
  virtual ~IHttpClient() = default;
  virtual HttpResult Send(const HttpCall& call) = 0;
};

// libcurl; one connection cache per thread, so a delivery's requests reuse
// their connection.
class CurlHttpClient : public IHttpClient {
 public:
  CurlHttpClient();
  HttpResult Send(const HttpCall& call) override;
};

// "%XX" for everything but unreserved characters (RFC 3986), for query values.
std::string UrlEncodeComponent(const std::string& text);

}  // namespace HospitalBridge
