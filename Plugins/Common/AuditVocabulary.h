#pragma once
// The audit trail's one vocabulary. Every action HospitalBridge records is
// named here once, with what it is in DICOM's audit messages (PS3.15 A.5:
// event ID, action code, event type) and in FHIR AuditEvent (the same DCM
// codes), and in plain words for the staff's audit page and the patient's
// access report. And one way to say who acted.
#include <string>
#include <vector>

#include "Common/AuditEvent.h"
#include "Common/Identity.h"

namespace HospitalBridge {

struct AuditAction {
  const char* name;         // "study.viewed"
  const char* group;        // accounts, images, shares, federation, consent, security, system
  const char* eventCode;    // DCM code of the event ID (e.g. 110103)
  const char* eventName;    // its meaning ("DICOM Instances Accessed")
  const char* actionCode;   // C, R, U, D or E
  const char* subtypeCode;  // DCM code of the event type, or ""
  const char* subtypeName;
  const char* words;       // for staff: "Study viewed"
  const char* plainWords;  // for the patient: "Looked at the images"
};

// Every action, grouped, in the order the audit page lists them.
const std::vector<AuditAction>& AuditActions();
// The action's entry; an action not in the table (an old database's) gets a
// generic "Application Activity" entry with its name as words.
AuditAction AuditActionOf(const std::string& name);

// Who acted, said the same way everywhere.
enum class ActorKind { kUser, kPeer, kPatientLink, kDicomSender, kSystem };
const char* ActorKindName(ActorKind kind);  // user, peer, share, dicom, system

struct AuditActor {
  ActorKind kind = ActorKind::kSystem;
  std::string name;
  std::string role;
  std::string address;

  // A signed-in member of staff or a peer site's account.
  static AuditActor Of(const Identity& identity, const std::string& address);
  // A phone that opened a share link.
  static AuditActor PatientLink(int64_t shareId, const std::string& address);
  static AuditActor DicomSender(const std::string& aet, const std::string& address);
  // HospitalBridge itself, or one of its parts ("auto-share").
  static AuditActor System(const std::string& name = "HospitalBridge");
  // Someone who gave a user name but is not (yet) known to be anyone.
  static AuditActor Claimed(const std::string& username, const std::string& address);
};

// A new event: `action` by `actor`, at once.
AuditEvent MakeAuditEvent(const std::string& action, const AuditActor& actor,
                          const std::string& outcome = "success");

}  // namespace HospitalBridge
