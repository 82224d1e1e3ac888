#pragma once
// Staff routes of share links under /bridge/shares: create, list, revoke,
// unlock, reprint, and the QR code and slip of a link not printed yet.
#include "Common/Router.h"
#include "Common/Settings.h"
#include "Index/StudyIndexStore.h"
#include "Registry/SiteStore.h"
#include "Share/ShareIssuer.h"
#include "Share/ShareSettings.h"

namespace HospitalBridge {

struct ShareRoutesContext {
  const SiteSettings& site;
  const SharesSettings& settings;
  ShareIssuer& issuer;
  StudyIndexStore& studies;
  SiteStore& sites;
};

void RegisterShareRoutes(Router& router, ShareRoutesContext context);

// Where phones reach this site: Shares.PublicBaseUrl, else the scheme and
// Host of `request` (the reception PC's own address).
std::string PublicBaseUrl(const SharesSettings& settings, bool ssl, const HttpRequest& request);

}  // namespace HospitalBridge
