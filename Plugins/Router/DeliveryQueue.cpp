#include "Router/DeliveryQueue.h"

#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kColumns[] =
    "id, study_uid, orthanc_id, destination, trigger_key, rule, accession, patient_name, state, reason, "
    "attempts, "
    "next_attempt_at, instances_received, instances_sent, instances_confirmed, remote_id, remote_url, "
    "payload, "
    "update_pending, created_at, updated_at, delivered_at";

Delivery ReadDelivery(const Statement& row) {
  Delivery d;
  d.id = row.ColumnInt(0);
  d.studyUid = row.ColumnText(1);
  d.orthancId = row.ColumnText(2);
  d.destination = row.ColumnText(3);
  d.trigger = row.ColumnText(4);
  d.rule = row.ColumnText(5);
  d.accession = row.ColumnText(6);
  d.patientName = row.ColumnText(7);
  d.state = row.ColumnText(8);
  d.reason = row.ColumnText(9);
  d.attempts = row.ColumnInt(10);
  d.nextAttemptAtMs = row.ColumnInt(11);
  d.instancesReceived = row.ColumnInt(12);
  d.instancesSent = row.ColumnInt(13);
  d.instancesConfirmed = row.ColumnInt(14);
  d.remoteId = row.ColumnText(15);
  d.remoteUrl = row.ColumnText(16);
  d.payload = row.ColumnText(17);
  d.updatePending = row.ColumnInt(18) != 0;
  d.createdAt = row.ColumnInt(19);
  d.updatedAt = row.ColumnInt(20);
  d.deliveredAt = row.ColumnInt(21);
  return d;
}

std::vector<Delivery> ReadAll(Statement& select) {
  std::vector<Delivery> deliveries;
  while (select.Step()) deliveries.push_back(ReadDelivery(select));
  return deliveries;
}

const char kPendingStates[] = "('queued', 'sending', 'waiting', 'retrying')";
}  // namespace

Json::Value Delivery::ToJson() const {
  Json::Value out(Json::objectValue);
  out["id"] = static_cast<Json::Int64>(id);
  out["study_uid"] = studyUid;
  out["orthanc_id"] = orthancId;
  out["destination"] = destination;
  out["trigger"] = trigger;
  out["rule"] = rule;
  out["accession_number"] = accession;
  out["patient_name"] = Text::PersonNameForDisplay(patientName);
  out["state"] = state;
  out["reason"] = reason;
  out["attempts"] = static_cast<Json::Int64>(attempts);
  out["next_attempt_at"] = nextAttemptAtMs > 0 ? Time::FormatIsoUtcMilliseconds(nextAttemptAtMs) : "";
  out["instances_received"] = static_cast<Json::Int64>(instancesReceived);
  out["instances_sent"] = static_cast<Json::Int64>(instancesSent);
  out["instances_confirmed"] = static_cast<Json::Int64>(instancesConfirmed);
  out["remote_id"] = remoteId;
  out["remote_url"] = remoteUrl;
  out["update_pending"] = updatePending;
  out["created_at"] = Time::FormatIsoUtc(createdAt);
  out["updated_at"] = Time::FormatIsoUtc(updatedAt);
  out["delivered_at"] = Time::FormatIsoUtc(deliveredAt);
  return out;
}

DeliveryQueue::EnqueueResult DeliveryQueue::Enqueue(const NewDelivery& n) {
  return InWrite(database_, [&](Transaction& t) {
    const int64_t now = clock_.NowSeconds();
    Statement existing(t,
                       "SELECT id, state, instances_received, instances_sent, payload FROM router_deliveries "
                       "WHERE study_uid = ? AND destination = ? AND trigger_key = ?");
    existing.Bind(1, n.studyUid).Bind(2, n.destination).Bind(3, n.trigger);
    Statement decided(t, "DELETE FROM router_decisions WHERE study_uid = ? AND rule = ? AND destination = ?");
    decided.Bind(1, n.studyUid).Bind(2, n.rule).Bind(3, n.destination).Run();
    if (!existing.Step()) {
      Statement insert(
          t,
          "INSERT INTO router_deliveries (study_uid, orthanc_id, destination, trigger_key, rule, "
          "accession, patient_name, state, reason, instances_received, payload, next_attempt_at, "
          "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      const bool waiting = !n.waitingReason.empty();
      insert.Bind(1, n.studyUid)
          .Bind(2, n.orthancId)
          .Bind(3, n.destination)
          .Bind(4, n.trigger)
          .Bind(5, n.rule)
          .Bind(6, n.accession)
          .Bind(7, n.patientName)
          .Bind(8, waiting ? DeliveryState::kWaiting : DeliveryState::kQueued)
          .Bind(9, n.waitingReason)
          .Bind(10, n.instancesReceived)
          .Bind(11, n.payload)
          .Bind(12, static_cast<int64_t>(0))
          .Bind(13, now)
          .Bind(14, now)
          .Run();
      return EnqueueResult::kCreated;
    }
    const int64_t id = existing.ColumnInt(0);
    const std::string state = existing.ColumnText(1);
    const int64_t sent = existing.ColumnInt(3);
    const bool newPayload = existing.ColumnText(4) != n.payload;  // a report signed again
    const bool changed = n.instancesReceived > sent || newPayload;
    Statement refresh(t,
                      "UPDATE router_deliveries SET orthanc_id = ?, accession = ?, patient_name = ?, "
                      "instances_received = ?, payload = ?, updated_at = ? WHERE id = ?");
    refresh.Bind(1, n.orthancId)
        .Bind(2, n.accession)
        .Bind(3, n.patientName)
        .Bind(4, n.instancesReceived)
        .Bind(5, n.payload)
        .Bind(6, now)
        .Bind(7, id)
        .Run();
    if (state == DeliveryState::kWaiting) {
      // The study changed (its accession number fixed through reconciliation,
      // say): what it waits for is looked at again now.
      Statement wake(t, "UPDATE router_deliveries SET next_attempt_at = 0 WHERE id = ?");
      wake.Bind(1, id).Run();
      return EnqueueResult::kUpdated;
    }
    if (!changed) return EnqueueResult::kUnchanged;
    if (state == DeliveryState::kDelivered) {
      Statement requeue(t,
                        "UPDATE router_deliveries SET state = 'queued', reason = ?, attempts = 0, "
                        "next_attempt_at = 0 WHERE id = ?");
      requeue.Bind(1, newPayload ? "update: a new signed version" : "update: new instances")
          .Bind(2, id)
          .Run();
      return EnqueueResult::kUpdated;
    }
    if (state == DeliveryState::kSending) {
      Statement mark(t, "UPDATE router_deliveries SET update_pending = 1 WHERE id = ?");
      mark.Bind(1, id).Run();
      return EnqueueResult::kUpdated;
    }
    return EnqueueResult::kUnchanged;
  });
}

std::optional<Delivery> DeliveryQueue::Find(int64_t id) {
  return InRead(database_, [&](Transaction& t) -> std::optional<Delivery> {
    Statement select(t, std::string("SELECT ") + kColumns + " FROM router_deliveries WHERE id = ?");
    select.Bind(1, id);
    if (!select.Step()) return std::nullopt;
    return ReadDelivery(select);
  });
}

std::vector<Delivery> DeliveryQueue::List(const DeliveryFilter& filter) {
  return InRead(database_, [&](Transaction& t) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM router_deliveries WHERE 1 = 1";
    std::vector<std::string> texts;
    if (!filter.state.empty()) {
      sql += " AND state = ?";
      texts.push_back(filter.state);
    }
    if (!filter.destination.empty()) {
      sql += " AND destination = ?";
      texts.push_back(filter.destination);
    }
    if (!filter.studyUid.empty()) {
      sql += " AND study_uid = ?";
      texts.push_back(filter.studyUid);
    }
    if (!filter.text.empty()) {
      sql +=
          " AND (accession LIKE ? ESCAPE '\\' OR patient_name LIKE ? ESCAPE '\\' OR study_uid LIKE ? ESCAPE "
          "'\\')";
      const std::string like = Text::LikeContains(filter.text);
      texts.insert(texts.end(), {like, like, like});
    }
    if (filter.beforeId > 0) sql += " AND id < " + std::to_string(filter.beforeId);
    sql += " ORDER BY id DESC LIMIT " + std::to_string(filter.limit);
    Statement select(t, sql);
    int index = 1;
    for (const std::string& text : texts) select.Bind(index++, text);
    return ReadAll(select);
  });
}

std::vector<Delivery> DeliveryQueue::ForStudy(const std::string& studyUid) {
  return InRead(database_, [&](Transaction& t) {
    Statement select(
        t, std::string("SELECT ") + kColumns + " FROM router_deliveries WHERE study_uid = ? ORDER BY id");
    select.Bind(1, studyUid);
    return ReadAll(select);
  });
}

std::vector<Delivery> DeliveryQueue::Due(int64_t limit) {
  return InRead(database_, [&](Transaction& t) {
    Statement select(t, std::string("SELECT ") + kColumns +
                            " FROM router_deliveries WHERE state IN ('queued', 'retrying', 'waiting') AND "
                            "next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?");
    select.Bind(1, clock_.NowMs()).Bind(2, limit);
    return ReadAll(select);
  });
}

std::optional<int64_t> DeliveryQueue::NextDueAtMs() {
  return InRead(database_, [&](Transaction& t) -> std::optional<int64_t> {
    Statement select(
        t,
        "SELECT min(next_attempt_at) FROM router_deliveries WHERE state IN ('queued', 'retrying', "
        "'waiting')");
    if (!select.Step() || select.ColumnIsNull(0)) return std::nullopt;
    return select.ColumnInt(0);
  });
}

bool DeliveryQueue::Claim(int64_t id) {
  return InWrite(database_, [&](Transaction& t) {
    Statement update(
        t,
        "UPDATE router_deliveries SET state = 'sending', attempts = attempts + 1, update_pending = 0, "
        "updated_at = ? WHERE id = ? AND state IN ('queued', 'retrying', 'waiting')");
    update.Bind(1, clock_.NowSeconds()).Bind(2, id).Run();
    return t.Changes() == 1;
  });
}

int64_t DeliveryQueue::RequeueInterrupted() {
  return InWrite(database_, [&](Transaction& t) {
    Statement update(t,
                     "UPDATE router_deliveries SET state = 'queued', reason = 'interrupted: resumed', "
                     "next_attempt_at = 0 WHERE state = 'sending'");
    update.Run();
    return t.Changes();
  });
}

void DeliveryQueue::SetState(int64_t id, const char* state, const std::string& reason,
                             int64_t nextAttemptAtMs) {
  InWrite(database_, [&](Transaction& t) {
    Statement update(
        t,
        "UPDATE router_deliveries SET state = ?, reason = ?, next_attempt_at = ?, updated_at = ? "
        "WHERE id = ?");
    update.Bind(1, state)
        .Bind(2, reason)
        .Bind(3, nextAttemptAtMs)
        .Bind(4, clock_.NowSeconds())
        .Bind(5, id)
        .Run();
  });
}

void DeliveryQueue::MarkDelivered(int64_t id, const std::string& note) {
  InWrite(database_, [&](Transaction& t) {
    const int64_t now = clock_.NowSeconds();
    // Instances that came while it was sending: queued again as an update.
    Statement update(
        t,
        "UPDATE router_deliveries SET state = CASE WHEN update_pending = 1 THEN 'queued' ELSE "
        "'delivered' END, reason = CASE WHEN update_pending = 1 THEN 'update: changed while it was sent' "
        "ELSE ? "
        "END, next_attempt_at = 0, update_pending = 0, updated_at = ?, delivered_at = ? WHERE id = ?");
    update.Bind(1, note).Bind(2, now).Bind(3, now).Bind(4, id).Run();
  });
}

void DeliveryQueue::MarkRetrying(int64_t id, int64_t delayMs, const std::string& reason) {
  SetState(id, DeliveryState::kRetrying, reason, clock_.NowMs() + delayMs);
}

void DeliveryQueue::MarkWaiting(int64_t id, int64_t delayMs, const std::string& reason) {
  SetState(id, DeliveryState::kWaiting, reason, clock_.NowMs() + delayMs);
}

void DeliveryQueue::MarkFailed(int64_t id, const std::string& reason) {
  SetState(id, DeliveryState::kFailed, reason, 0);
}

bool DeliveryQueue::Postpone(int64_t id, int64_t untilMs, const std::string& reason) {
  return InWrite(database_, [&](Transaction& t) {
    Statement update(t,
                     "UPDATE router_deliveries SET state = 'waiting', reason = ?, next_attempt_at = ?, "
                     "updated_at = ? WHERE id = ? AND state IN ('queued', 'retrying', 'waiting')");
    update.Bind(1, reason).Bind(2, untilMs).Bind(3, clock_.NowSeconds()).Bind(4, id).Run();
    return t.Changes() == 1;
  });
}

void DeliveryQueue::Release(int64_t id) {
  InWrite(database_, [&](Transaction& t) {
    Statement update(
        t,
        "UPDATE router_deliveries SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 "
        "ELSE 0 END, "
        "reason = 'paused: Orthanc stopping', next_attempt_at = 0 WHERE id = ? AND state = 'sending'");
    update.Bind(1, id).Run();
  });
}

void DeliveryQueue::SetRemote(int64_t id, const std::string& remoteId, const std::string& remoteUrl) {
  InWrite(database_, [&](Transaction& t) {
    Statement update(t, "UPDATE router_deliveries SET remote_id = ?, remote_url = ? WHERE id = ?");
    update.Bind(1, remoteId).Bind(2, remoteUrl).Bind(3, id).Run();
  });
}

void DeliveryQueue::SetReceived(int64_t id, int64_t instances) {
  InWrite(database_, [&](Transaction& t) {
    Statement update(t, "UPDATE router_deliveries SET instances_received = ? WHERE id = ?");
    update.Bind(1, instances).Bind(2, id).Run();
  });
}

std::set<std::string> DeliveryQueue::SentInstances(int64_t id) {
  return InRead(database_, [&](Transaction& t) {
    Statement select(t, "SELECT sop_instance_uid FROM router_sent_instances WHERE delivery_id = ?");
    select.Bind(1, id);
    std::set<std::string> sent;
    while (select.Step()) sent.insert(select.ColumnText(0));
    return sent;
  });
}

void DeliveryQueue::RecordSent(int64_t id, const std::vector<std::string>& sops, bool confirmed) {
  InWrite(database_, [&](Transaction& t) {
    const int64_t now = clock_.NowSeconds();
    Statement insert(
        t,
        "INSERT INTO router_sent_instances (delivery_id, sop_instance_uid, confirmed, sent_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (delivery_id, sop_instance_uid) DO UPDATE SET "
        "confirmed = CASE WHEN excluded.confirmed > router_sent_instances.confirmed THEN excluded.confirmed "
        "ELSE router_sent_instances.confirmed END");
    for (const std::string& sop : sops) {
      insert.Reset();
      insert.Bind(1, id).Bind(2, sop).Bind(3, confirmed ? 1 : 0).Bind(4, now).Run();
    }
    Statement counts(
        t,
        "UPDATE router_deliveries SET instances_sent = (SELECT count(*) FROM router_sent_instances "
        "WHERE delivery_id = ?), instances_confirmed = (SELECT count(*) FROM router_sent_instances "
        "WHERE delivery_id = ? AND confirmed = 1), updated_at = ? WHERE id = ?");
    counts.Bind(1, id).Bind(2, id).Bind(3, now).Bind(4, id).Run();
  });
}

bool DeliveryQueue::Resend(int64_t id) {
  return InWrite(database_, [&](Transaction& t) {
    Statement update(
        t,
        "UPDATE router_deliveries SET state = 'queued', attempts = 0, next_attempt_at = 0, "
        "reason = 'resent by staff', updated_at = ? WHERE id = ? AND state IN ('failed', 'delivered', "
        "'waiting', 'retrying')");
    update.Bind(1, clock_.NowSeconds()).Bind(2, id).Run();
    return t.Changes() == 1;
  });
}

int64_t DeliveryQueue::ResendFailed(const std::string& destination) {
  return InWrite(database_, [&](Transaction& t) {
    Statement update(t,
                     "UPDATE router_deliveries SET state = 'queued', attempts = 0, next_attempt_at = 0, "
                     "reason = 'resent by staff', updated_at = ? WHERE state = 'failed' AND (? = '' OR "
                     "destination = ?)");
    update.Bind(1, clock_.NowSeconds()).Bind(2, destination).Bind(3, destination).Run();
    return t.Changes();
  });
}

bool DeliveryQueue::Cancel(int64_t id, const std::string& by) {
  return InWrite(database_, [&](Transaction& t) {
    Statement update(t,
                     "UPDATE router_deliveries SET state = 'failed', reason = ?, next_attempt_at = 0, "
                     "updated_at = ? WHERE id = ? AND state IN ('queued', 'waiting', 'retrying')");
    update.Bind(1, "cancelled by " + by).Bind(2, clock_.NowSeconds()).Bind(3, id).Run();
    return t.Changes() == 1;
  });
}

int64_t DeliveryQueue::CloseForDeletedStudy(const std::string& orthancId) {
  return InWrite(database_, [&](Transaction& t) {
    Statement update(t,
                     "UPDATE router_deliveries SET state = 'failed', reason = ?, next_attempt_at = 0, "
                     "updated_at = ? WHERE orthanc_id = ? AND state IN ('queued', 'waiting', 'retrying')");
    update.Bind(1, "the study was deleted from Orthanc before it was sent (an attached copy is routed anew)")
        .Bind(2, clock_.NowSeconds())
        .Bind(3, orthancId)
        .Run();
    return t.Changes();
  });
}

int64_t DeliveryQueue::WakeWaitingForAccession(const std::string& accession) {
  if (accession.empty()) return 0;
  return InWrite(database_, [&](Transaction& t) {
    Statement update(
        t, "UPDATE router_deliveries SET next_attempt_at = 0 WHERE state = 'waiting' AND accession = ?");
    update.Bind(1, accession).Run();
    return t.Changes();
  });
}

int64_t DeliveryQueue::WakeWaiting() {
  return InWrite(database_, [&](Transaction& t) {
    t.Execute("UPDATE router_deliveries SET next_attempt_at = 0 WHERE state = 'waiting'");
    return t.Changes();
  });
}

std::vector<std::pair<int64_t, std::string>> DeliveryQueue::WaitingAccessions(int64_t limit) {
  return InRead(database_, [&](Transaction& t) {
    Statement select(
        t,
        "SELECT id, accession FROM router_deliveries WHERE state = 'waiting' AND accession <> '' AND "
        "next_attempt_at > ? ORDER BY id LIMIT ?");
    select.Bind(1, clock_.NowMs()).Bind(2, limit);
    std::vector<std::pair<int64_t, std::string>> out;
    while (select.Step()) out.emplace_back(select.ColumnInt(0), select.ColumnText(1));
    return out;
  });
}

Json::Value DeliveryQueue::Summary(int64_t startOfTodaySeconds) {
  return InRead(database_, [&](Transaction& t) {
    Json::Value out(Json::objectValue);
    Statement counts(
        t,
        "SELECT destination, state, count(*), sum(CASE WHEN state = 'delivered' AND delivered_at >= ? "
        "THEN 1 ELSE 0 END), min(CASE WHEN state IN " +
            std::string(kPendingStates) +
            " THEN created_at END) FROM router_deliveries GROUP BY destination, state");
    counts.Bind(1, startOfTodaySeconds);
    while (counts.Step()) {
      Json::Value& d = out[counts.ColumnText(0)];
      for (const char* state : {"queued", "sending", "waiting", "retrying", "failed", "delivered"}) {
        if (!d.isMember(state)) d[state] = 0;
      }
      if (!d.isMember("delivered_today")) d["delivered_today"] = 0;
      d[counts.ColumnText(1)] = static_cast<Json::Int64>(counts.ColumnInt(2));
      d["delivered_today"] = d["delivered_today"].asInt64() + counts.ColumnInt(3);
      if (!counts.ColumnIsNull(4)) {
        const int64_t oldest = counts.ColumnInt(4);
        if (!d.isMember("oldest_pending_since") || oldest < d["oldest_pending_since"].asInt64())
          d["oldest_pending_since"] = static_cast<Json::Int64>(oldest);
      }
    }
    Statement withheld(t, "SELECT destination, count(*) FROM router_decisions GROUP BY destination");
    while (withheld.Step())
      out[withheld.ColumnText(0)]["not_sent"] = static_cast<Json::Int64>(withheld.ColumnInt(1));
    return out;
  });
}

Json::Value DeliveryQueue::Backlog() {
  return InRead(database_, [&](Transaction& t) {
    Json::Value out(Json::objectValue);
    for (const char* state : {"queued", "sending", "waiting", "retrying", "failed", "delivered"})
      out[state] = 0;
    Statement counts(t, "SELECT state, count(*) FROM router_deliveries GROUP BY state");
    while (counts.Step()) out[counts.ColumnText(0)] = static_cast<Json::Int64>(counts.ColumnInt(1));
    Statement oldest(
        t, "SELECT min(created_at) FROM router_deliveries WHERE state IN " + std::string(kPendingStates));
    if (oldest.Step() && !oldest.ColumnIsNull(0)) {
      out["oldest_pending_seconds"] = static_cast<Json::Int64>(clock_.NowSeconds() - oldest.ColumnInt(0));
    } else {
      out["oldest_pending_seconds"] = Json::Value();
    }
    return out;
  });
}

void DeliveryQueue::RecordDecision(const std::string& studyUid, const std::string& rule,
                                   const std::string& destination, const std::string& decision,
                                   const std::string& reason) {
  InWrite(database_, [&](Transaction& t) {
    Statement insert(
        t,
        "INSERT INTO router_decisions (study_uid, rule, destination, decision, reason, at) VALUES "
        "(?, ?, ?, ?, ?, ?) ON CONFLICT (study_uid, rule, destination) DO UPDATE SET decision = "
        "excluded.decision, reason = excluded.reason, at = excluded.at");
    insert.Bind(1, studyUid).Bind(2, rule).Bind(3, destination).Bind(4, decision).Bind(5, reason);
    insert.Bind(6, clock_.NowSeconds()).Run();
  });
}

Json::Value DeliveryQueue::Decisions(const std::string& studyUid, int limit) {
  return InRead(database_, [&](Transaction& t) {
    Statement select(
        t,
        "SELECT study_uid, rule, destination, decision, reason, at FROM router_decisions WHERE (? = '' "
        "OR study_uid = ?) ORDER BY at DESC, id DESC LIMIT ?");
    select.Bind(1, studyUid).Bind(2, studyUid).Bind(3, static_cast<int64_t>(limit));
    Json::Value out(Json::arrayValue);
    while (select.Step()) {
      Json::Value d(Json::objectValue);
      d["study_uid"] = select.ColumnText(0);
      d["rule"] = select.ColumnText(1);
      d["destination"] = select.ColumnText(2);
      d["decision"] = select.ColumnText(3);
      d["reason"] = select.ColumnText(4);
      d["at"] = Time::FormatIsoUtc(select.ColumnInt(5));
      out.append(d);
    }
    return out;
  });
}

}  // namespace HospitalBridge
