#pragma once
// OHIF's ready-built app on disk, as HospitalBridge serves it under
// /bridge/viewer/. The files stay as the npm package shipped them (the build
// checked its SHA-256); what the plugin changes, it changes as it serves:
//  - index.html: OHIF's inline scripts dropped (the CSP allows none; the boot
//    script does what they did) and its root paths moved under the mount;
//  - app-config.js: generated, pointing at this Orthanc's DICOMweb root
//    relative to where it is served, so it works behind a proxy and HTTPS;
//  - the webpack runtimes, built for "/", load their chunks, workers and
//    WebAssembly from where they are served instead, and the stylesheets
//    their fonts.
#include <cstdint>
#include <optional>
#include <string>

#include "Viewer/ViewerSettings.h"

namespace HospitalBridge {

class ViewerFiles {
 public:
  // `mount`: the path the app is served under, with its trailing slash
  // ("/bridge/viewer/").
  ViewerFiles(std::string directory, std::string mount);

  const std::string& Directory() const { return directory_; }
  // index.html is there (read from disk each time: installing the files
  // needs no restart).
  bool Installed() const;
  // From the build's .hospitalbridge-viewer.json: {"name", "version",
  // "sha256"}; "" when the files were put there another way.
  std::string Version() const;
  std::string PackageName() const;

  struct File {
    std::string body;
    std::string contentType;
    std::string etag;        // quoted, from size, time and what the plugin changed
    bool immutable = false;  // the name carries a content hash
  };
  // The file at `relative` (e.g. "app.bundle.0f61.js"), changed as above for
  // JavaScript; nothing for a path leaving the folder, a hidden or missing
  // file, or a folder.
  std::optional<File> Read(const std::string& relative) const;
  // index.html, rewritten. Throws DomainError (not found) when not installed.
  File Index() const;

  // The pure parts, for the unit tests.
  static std::string RewriteIndex(const std::string& html, const std::string& mount);
  static std::string PatchPublicPath(const std::string& script, bool& changed);
  // Stylesheets name their fonts by root paths ("url(/a34f.woff2)"): made
  // relative to the stylesheet, which sits beside them.
  static std::string PatchStylesheet(const std::string& css, bool& changed);
  // A file name whose content hash is part of it ("app.bundle.0f6159c501addfe9.js",
  // "0ddf166f7a343eda.wasm").
  static bool HasContentHash(const std::string& name);
  // Whether `relative` may be served: no "..", ".", hidden or empty segment,
  // no backslash or control character.
  static bool SafeRelativePath(const std::string& relative);

 private:
  std::string StampField(const char* field) const;
  const std::string directory_;
  const std::string mount_;
};

// app-config.js: OHIF's configuration pointing at DICOMweb relative to the
// script's own address (`mount` gives its depth).
std::string MakeViewerAppConfig(const ViewerSettings& settings, const std::string& siteName,
                                const std::string& mount);

}  // namespace HospitalBridge
