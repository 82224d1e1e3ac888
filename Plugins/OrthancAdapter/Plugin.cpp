// The Orthanc entry points. Everything here translates between the plugin SDK
// and the core (Bridge); no decision is taken in this file.
#include <dlfcn.h>
#include <orthanc/OrthancCPlugin.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "Bridge.h"
#include "Common/EmbeddedResources.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Version.h"
#include "OrthancAdapter/SdkOrthancRest.h"
#include "OrthancAdapter/SdkPeerClient.h"
#include "Security/BodyGuard.h"

using namespace HospitalBridge;

namespace {
OrthancPluginContext* context = nullptr;
std::unique_ptr<SdkOrthancRest> orthancRest;
std::unique_ptr<SdkPeerClient> peerClient;
std::unique_ptr<Bridge> bridge;

// Orthanc 1.10 gives the client's address to the request filter but not to
// the REST callback. Both run one after the other on the same HTTP thread,
// so the filter leaves what it resolved here for the callback to pick up.
// Paths are compared in canonical form: Orthanc may hand the callback
// "/bridge/login" for a request the filter saw as "/bridge/login/".
struct FilteredRequest {
  std::string path;  // canonical
  std::string connectionIp;
  std::string remoteIp;
  bool secure = false;
};
thread_local FilteredRequest lastFiltered;

const char* MethodName(OrthancPluginHttpMethod method) {
  switch (method) {
    case OrthancPluginHttpMethod_Get:
      return "GET";
    case OrthancPluginHttpMethod_Post:
      return "POST";
    case OrthancPluginHttpMethod_Put:
      return "PUT";
    case OrthancPluginHttpMethod_Delete:
      return "DELETE";
    default:
      return "UNKNOWN";
  }
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

void FillHeaders(HttpRequest& request, uint32_t count, const char* const* keys, const char* const* values) {
  for (uint32_t i = 0; i < count; i++) request.headers[Lower(keys[i])] = values[i];
}

// Orthanc hands GET arguments over as they were in the URL: still
// percent-encoded ("12%3A00"), with '+' for spaces.
void FillQuery(HttpRequest& request, uint32_t count, const char* const* keys, const char* const* values) {
  for (uint32_t i = 0; i < count; i++) request.query[UrlDecode(keys[i], true)] = UrlDecode(values[i], true);
}

int32_t FilterRequest(OrthancPluginHttpMethod method, const char* uri, const char* ip, uint32_t headersCount,
                      const char* const* headersKeys, const char* const* headersValues, uint32_t getCount,
                      const char* const* getKeys, const char* const* getValues) {
  try {
    HttpRequest request;
    request.method = MethodName(method);
    request.path = uri;
    request.connectionIp = ip != nullptr ? ip : "";
    FillHeaders(request, headersCount, headersKeys, headersValues);
    FillQuery(request, getCount, getKeys, getValues);
    bridge->PrepareRequest(request);
    lastFiltered = FilteredRequest{request.path, request.connectionIp, request.remoteIp, request.secure};
    return bridge->AllowRequest(request) ? 1 : 0;
  } catch (const std::exception& e) {
    Log::Error(std::string("request filter failed, request refused: ") + e.what());
    return 0;
  }
}

// A streamed answer (HttpResponse::stream). Orthanc 1.12.6's SDK sends each
// piece as it comes; older ones can only answer in one buffer, so the pieces
// are gathered first there.
void AnswerStream(OrthancPluginRestOutput* output, const HttpResponse& response) {
  try {
#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 6)
    if (OrthancPluginStartStreamAnswer(context, output, response.contentType.c_str()) !=
        OrthancPluginErrorCode_Success) {
      return;
    }
    response.stream([output](const std::string& piece) {
      return OrthancPluginSendStreamChunk(context, output, piece.data(),
                                          static_cast<uint32_t>(piece.size())) ==
             OrthancPluginErrorCode_Success;
    });
#else
    std::string whole;
    response.stream([&whole](const std::string& piece) {
      whole += piece;
      return true;
    });
    OrthancPluginAnswerBuffer(context, output, whole.data(), static_cast<uint32_t>(whole.size()),
                              response.contentType.c_str());
#endif
  } catch (const std::exception& e) {
    // Headers are gone already: the client sees a cut answer, the log why.
    Log::Warning(std::string("a streamed answer stopped: ") + e.what());
  }
}

// Orthanc 1.12.2 and later label an answer sent with an error status and a
// body "text/plain" unless Orthanc chose its type itself: the plugin's own
// Content-Type comes first, browsers use the last one and would show a page
// (expired link, wrong PIN) as its HTML source. There, pages go out with
// status 200; the page says what happened.
bool pagesOnlyWith200 = false;

void Answer(OrthancPluginRestOutput* output, const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    OrthancPluginSetHttpHeader(context, output, name.c_str(), value.c_str());
  }
  if (response.stream) {
    AnswerStream(output, response);
    return;
  }
  const bool page = response.contentType.rfind("text/html", 0) == 0;
  if (response.status == 200 || (pagesOnlyWith200 && page && response.status >= 400)) {
    OrthancPluginAnswerBuffer(context, output, response.body.data(),
                              static_cast<uint32_t>(response.body.size()), response.contentType.c_str());
  } else if (response.status == 301) {
    OrthancPluginRedirect(context, output, response.location.c_str());
  } else if (response.status == 405) {
    OrthancPluginSendMethodNotAllowed(context, output, "GET,POST,PUT,DELETE");
  } else {
    OrthancPluginSetHttpHeader(context, output, "Content-Type", response.contentType.c_str());
    OrthancPluginSendHttpStatus(context, output, static_cast<uint16_t>(response.status), response.body.data(),
                                static_cast<uint32_t>(response.body.size()));
  }
}

HttpRequest FromSdk(const char* url, const OrthancPluginHttpRequest* sdkRequest) {
  HttpRequest request;
  request.method = MethodName(sdkRequest->method);
  request.path = url;
  FillHeaders(request, sdkRequest->headersCount, sdkRequest->headersKeys, sdkRequest->headersValues);
  FillQuery(request, sdkRequest->getCount, sdkRequest->getKeys, sdkRequest->getValues);
  bridge->PrepareRequest(request);
  // Not the request just filtered on this thread: a call from inside Orthanc
  // (a plugin storing through the REST API), which has no client address.
  if (lastFiltered.path == request.path) {
    request.connectionIp = lastFiltered.connectionIp;
    request.remoteIp = lastFiltered.remoteIp;
    request.secure = lastFiltered.secure;
  }
  if (sdkRequest->bodySize > 0) {
    request.body.assign(static_cast<const char*>(sdkRequest->body), sdkRequest->bodySize);
  }
  return request;
}

OrthancPluginErrorCode HandleRest(OrthancPluginRestOutput* output, const char* url,
                                  const OrthancPluginHttpRequest* sdkRequest) {
  Answer(output, bridge->HandleRequest(FromSdk(url, sdkRequest)));
  return OrthancPluginErrorCode_Success;
}

// The query string as it came (Orthanc passes it still percent-encoded).
std::string QueryString(const OrthancPluginHttpRequest* sdkRequest) {
  std::string query;
  for (uint32_t i = 0; i < sdkRequest->getCount; i++) {
    query += (i == 0 ? "?" : "&") + std::string(sdkRequest->getKeys[i]);
    if (sdkRequest->getValues[i] != nullptr && sdkRequest->getValues[i][0] != '\0') {
      query += "=" + std::string(sdkRequest->getValues[i]);
    }
  }
  return query;
}

// One of Orthanc's own routes that HospitalBridge guards for its body
// (Security/BodyGuard.h): checked, then handed back untouched to Orthanc's
// built-in handler (the plain OrthancPluginRestApi* calls; the
// "...AfterPlugins" ones would come back here). Orthanc formats its errors
// itself.
OrthancPluginErrorCode HandleGuardedCoreRoute(OrthancPluginRestOutput* output, const char* url,
                                              const OrthancPluginHttpRequest* sdkRequest) {
  const HttpRequest request = FromSdk(url, sdkRequest);
  if (std::optional<HttpResponse> refusal = bridge->RefuseCoreBody(request)) {
    Answer(output, *refusal);
    return OrthancPluginErrorCode_Success;
  }
  const std::string uri = url + QueryString(sdkRequest);
  OrthancPluginMemoryBuffer answer;
  OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
  switch (sdkRequest->method) {
    case OrthancPluginHttpMethod_Get:
      code = OrthancPluginRestApiGet(context, &answer, uri.c_str());
      break;
    case OrthancPluginHttpMethod_Post:
      code = OrthancPluginRestApiPost(context, &answer, uri.c_str(), sdkRequest->body, sdkRequest->bodySize);
      break;
    case OrthancPluginHttpMethod_Put:
      code = OrthancPluginRestApiPut(context, &answer, uri.c_str(), sdkRequest->body, sdkRequest->bodySize);
      break;
    case OrthancPluginHttpMethod_Delete:
      code = OrthancPluginRestApiDelete(context, uri.c_str());
      if (code == OrthancPluginErrorCode_Success) {
        OrthancPluginAnswerBuffer(context, output, "{}", 2, "application/json");
      }
      return code;
    default:
      return OrthancPluginErrorCode_BadRequest;
  }
  if (code != OrthancPluginErrorCode_Success) return code;
  const GuardedRoute* route = FindGuardedRoute(request.path);
  const std::string type = route != nullptr ? route->answerType : "application/json";
  if (type == "application/zip") {
    OrthancPluginSetHttpHeader(context, output, "Content-Disposition",
                               "attachment; filename=\"archive.zip\"");
  }
  OrthancPluginAnswerBuffer(context, output, answer.data, answer.size, type.c_str());
  OrthancPluginFreeMemoryBuffer(context, &answer);
  return OrthancPluginErrorCode_Success;
}

// Every DICOM instance Orthanc is about to store, whatever its path in (the
// REST API, a ZIP, another plugin such as DICOMweb's STOW-RS, WebDAV, Lua),
// before Orthanc parses it: a file nested too deeply must never be parsed.
// "Discard" is not enough: Orthanc 1.10.1 then still parses the original to
// describe it in the REST answer, on an HTTP thread, and dies. So a refused
// file is replaced by a few bytes that are not DICOM: Orthanc refuses those
// at once ("Bad file format", 400 to a REST client, a failure status to a
// DICOM sender or STOW-RS), and the log and the audit trail say why.
const char* OriginName(OrthancPluginInstanceOrigin origin) {
  switch (origin) {
    case OrthancPluginInstanceOrigin_DicomProtocol:
      return "DicomProtocol";
    case OrthancPluginInstanceOrigin_RestApi:
      return "RestApi";
    case OrthancPluginInstanceOrigin_Plugin:
      return "Plugins";
    case OrthancPluginInstanceOrigin_Lua:
      return "Lua";
    case OrthancPluginInstanceOrigin_WebDav:
      return "WebDav";
    default:
      return "Unknown";
  }
}

OrthancPluginReceivedInstanceAction OnReceivedInstance(OrthancPluginMemoryBuffer64* modified,
                                                       const void* data, uint64_t size,
                                                       OrthancPluginInstanceOrigin origin) {
  try {
    const std::string file(static_cast<const char*>(data), size);
    // An upload through the REST API runs on the HTTP thread whose request
    // the filter has just seen: its address is the uploader's.
    const std::string address = origin == OrthancPluginInstanceOrigin_RestApi ? lastFiltered.remoteIp : "";
    if (bridge->AcceptsReceivedInstance(file, OriginName(origin), address)) {
      return OrthancPluginReceivedInstanceAction_KeepAsIs;
    }
    static const char kRefused[] = "refused by HospitalBridge: its sequences nest too deeply";
    if (OrthancPluginCreateMemoryBuffer64(context, modified, sizeof(kRefused) - 1) !=
        OrthancPluginErrorCode_Success) {
      return OrthancPluginReceivedInstanceAction_Discard;
    }
    std::memcpy(modified->data, kRefused, sizeof(kRefused) - 1);
    return OrthancPluginReceivedInstanceAction_Modify;
  } catch (const std::exception& e) {
    Log::Error(std::string("received-instance check failed, instance kept: ") + e.what());
    return OrthancPluginReceivedInstanceAction_KeepAsIs;
  }
}

OrthancPluginErrorCode OnChange(OrthancPluginChangeType change, OrthancPluginResourceType level,
                                const char* resourceId) {
  // Runs on Orthanc's change thread: record and return, nothing slower.
  try {
    switch (change) {
      case OrthancPluginChangeType_OrthancStarted:
        bridge->OnOrthancStarted();
        break;
      case OrthancPluginChangeType_OrthancStopped:
        bridge->OnOrthancStopping();
        break;
      case OrthancPluginChangeType_NewStudy:
        bridge->OnStudyChanged(resourceId);
        break;
      case OrthancPluginChangeType_StableStudy:
        bridge->OnStudyStable(resourceId);
        break;
      case OrthancPluginChangeType_NewChildInstance:
      case OrthancPluginChangeType_UpdatedMetadata:
        if (level == OrthancPluginResourceType_Study) bridge->OnStudyChanged(resourceId);
        break;
      case OrthancPluginChangeType_Deleted:
        if (level == OrthancPluginResourceType_Study) bridge->OnStudyDeleted(resourceId);
        break;
      default:
        break;
    }
  } catch (const std::exception& e) {
    Log::Error(std::string("change callback: ") + e.what());
  }
  return OrthancPluginErrorCode_Success;
}

// Where the viewer's files are when HospitalBridge.Viewer.Directory is empty:
// viewer/ohif beside libHospitalBridge.so (symbolic links followed: Debian
// loads plugins through links in /usr/share/orthanc/plugins/), as the build
// puts them, else /usr/share/hospitalbridge/viewer/ohif.
std::string DefaultViewerDirectory() {
  const std::string shared = "/usr/share/hospitalbridge/viewer/ohif";
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&OnChange), &info) == 0 || info.dli_fname == nullptr) return shared;
  char* real = realpath(info.dli_fname, nullptr);
  std::string path(real != nullptr ? real : info.dli_fname);
  free(real);
  const size_t slash = path.rfind('/');
  const std::string beside = (slash == std::string::npos ? "." : path.substr(0, slash)) + "/viewer/ohif";
  return access((beside + "/index.html").c_str(), R_OK) == 0 || access(shared.c_str(), F_OK) != 0 ? beside
                                                                                                  : shared;
}

// Modality worklist C-FIND (Orthanc's DICOM thread): the query as Orthanc's
// JSON, the core's answers as JSON turned into DICOM by Orthanc. Orthanc keeps
// only the attributes the query asked for, and answers in its DefaultEncoding.
// A refused caller or a malformed query is an error here, which Orthanc sends
// as a C-FIND failure status.
OrthancPluginErrorCode OnWorklist(OrthancPluginWorklistAnswers* answers,
                                  const OrthancPluginWorklistQuery* query, const char* issuerAet,
                                  const char* calledAet) {
  try {
    OrthancPluginMemoryBuffer buffer;
    if (OrthancPluginWorklistGetDicomQuery(context, &buffer, query) != OrthancPluginErrorCode_Success) {
      return OrthancPluginErrorCode_BadRequest;
    }
    char* text =
        OrthancPluginDicomBufferToJson(context, buffer.data, buffer.size, OrthancPluginDicomToJsonFormat_Full,
                                       OrthancPluginDicomToJsonFlags_None, 0);
    OrthancPluginFreeMemoryBuffer(context, &buffer);
    if (text == nullptr) return OrthancPluginErrorCode_BadFileFormat;
    Json::Value json;
    const bool parsed = JsonText::Parse(text, json);
    OrthancPluginFreeString(context, text);
    if (!parsed) return OrthancPluginErrorCode_BadFileFormat;
    const WorklistAnswers result = bridge->Orders()->Worklist().Answer(
        json, issuerAet != nullptr ? issuerAet : "", calledAet != nullptr ? calledAet : "");
    for (const Json::Value& answer : result.answers) {
      const std::string body = JsonText::Write(answer);
      OrthancPluginMemoryBuffer dicom;
      OrthancPluginErrorCode code = OrthancPluginCreateDicom(context, &dicom, body.c_str(), nullptr,
                                                             OrthancPluginCreateDicomFlags_None);
      if (code != OrthancPluginErrorCode_Success) return code;
      code = OrthancPluginWorklistAddAnswer(context, answers, query, dicom.data, dicom.size);
      OrthancPluginFreeMemoryBuffer(context, &dicom);
      if (code != OrthancPluginErrorCode_Success) return code;
    }
    if (result.incomplete) OrthancPluginWorklistMarkIncomplete(context, answers);
    return OrthancPluginErrorCode_Success;
  } catch (const DomainError& e) {
    Log::Warning(std::string("worklist query from ") + (issuerAet != nullptr ? issuerAet : "") +
                 " not answered: " + e.what() + (e.Detail().empty() ? "" : " (" + e.Detail() + ")"));
    return e.GetKind() == DomainError::Kind::kForbidden ? OrthancPluginErrorCode_Unauthorized
                                                        : OrthancPluginErrorCode_BadRequest;
  } catch (const std::exception& e) {
    Log::Error(std::string("worklist query failed: ") + e.what());
    return OrthancPluginErrorCode_InternalError;
  }
}

Json::Value ReadOrthancConfiguration() {
  char* text = OrthancPluginGetConfiguration(context);
  if (text == nullptr) throw StartupError("cannot read Orthanc's configuration");
  std::string copy(text);
  OrthancPluginFreeString(context, text);
  return JsonText::ParseConfiguration(copy, "Orthanc's configuration");
}

}  // namespace

extern "C" {

ORTHANC_PLUGINS_API int32_t OrthancPluginInitialize(OrthancPluginContext* c) {
  context = c;
  Log::SetSink([](Log::Level level, const std::string& message) {
    const std::string line = "HospitalBridge: " + message;
    if (level == Log::Level::kError) {
      OrthancPluginLogError(context, line.c_str());
    } else if (level == Log::Level::kWarning) {
      OrthancPluginLogWarning(context, line.c_str());
    } else {
      OrthancPluginLogInfo(context, line.c_str());
    }
  });
  if (!OrthancPluginCheckVersion(context)) {
    Log::Error(std::string("this Orthanc (") + context->orthancVersion +
               ") is older than the SDK HospitalBridge " + "was built with; upgrade Orthanc");
    return -1;
  }
  pagesOnlyWith200 = OrthancPluginCheckVersionAdvanced(context, 1, 12, 2) == 1;
  try {
    Configuration config = LoadConfiguration(ReadOrthancConfiguration());
    if (config.viewer.directory.empty()) config.viewer.directory = DefaultViewerDirectory();
    orthancRest = std::make_unique<SdkOrthancRest>(context);
    peerClient = std::make_unique<SdkPeerClient>(context);
    bridge = std::make_unique<Bridge>(config, *orthancRest, *peerClient, context->orthancVersion);
  } catch (const std::exception& e) {
    // Printed at error level so that it is in the log even with default
    // verbosity, then Orthanc stops because the plugin failed to start.
    Log::Error(std::string("cannot start: ") + e.what());
    bridge.reset();
    return -1;
  }

  const char* description = "Hospital imaging hub: study index, security gate, staff pages.";
#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 6)
  // Newer SDKs deprecate the calls that look the plugin's name up by symbol.
  OrthancPluginSetDescription2(context, OrthancPluginGetName(), description);
#else
  OrthancPluginSetDescription(context, description);
#endif
  OrthancPluginRegisterIncomingHttpRequestFilter2(context, FilterRequest);
  OrthancPluginRegisterRestCallbackNoLock(context, "/bridge", HandleRest);
  OrthancPluginRegisterRestCallbackNoLock(context, "/bridge/(.*)", HandleRest);
  // Patients' pages behind the QR codes.
  OrthancPluginRegisterRestCallbackNoLock(context, "/s", HandleRest);
  OrthancPluginRegisterRestCallbackNoLock(context, "/s/(.*)", HandleRest);
  for (const GuardedRoute& route : GuardedCoreRoutes()) {
    OrthancPluginRegisterRestCallbackNoLock(context, route.uriRegex.c_str(), HandleGuardedCoreRoute);
  }
  OrthancPluginRegisterOnChangeCallback(context, OnChange);
  OrthancPluginRegisterReceivedInstanceCallback(context, OnReceivedInstance);
  if (bridge->Orders() != nullptr && bridge->Orders()->WorklistEnabled()) {
    // Only one plugin may answer worklists (Debian's sample one included).
    const bool registered =
        OrthancPluginRegisterWorklistCallback(context, OnWorklist) == OrthancPluginErrorCode_Success;
    bridge->Orders()->SetWorklistRegistered(registered);
    if (!registered) {
      Log::Error(
          "another plugin answers modality worklists already: HospitalBridge's worklist is off "
          "(disable the other one, or set HospitalBridge.Orders.Worklist.Enabled to false)");
    }
  }
  // Embedded from WebAssets/js/explorer-extension.js at build time.
  std::string explorer;
  if (FindEmbeddedFile("WebAssets/js/explorer-extension.js", explorer)) {
#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 6)
    OrthancPluginExtendOrthancExplorer2(context, OrthancPluginGetName(), explorer.c_str());
#else
    OrthancPluginExtendOrthancExplorer(context, explorer.c_str());
#endif
  }
  Log::Warning(std::string("version ") + kPluginVersion + " started for site " + bridge->Config().siteId +
               " (" + bridge->Config().siteName + "), database " + bridge->Config().databasePath);
  return 0;
}

ORTHANC_PLUGINS_API void OrthancPluginFinalize() {
  if (bridge) bridge->OnOrthancStopping();
  bridge.reset();
  peerClient.reset();
  orthancRest.reset();
  Log::SetSink(nullptr);
}

ORTHANC_PLUGINS_API const char* OrthancPluginGetName() { return "hospital-bridge"; }

ORTHANC_PLUGINS_API const char* OrthancPluginGetVersion() { return kPluginVersion; }
}
