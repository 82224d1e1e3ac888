#pragma once
// Orders, their history, the studies linked to them, the reconciliation list
// and attachment steps, in the plugin's database (migration 007). Knows SQL,
// not rules: OrderService decides. Methods taking a Transaction join the
// caller's, so that a change, its history and its audit event commit together.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Common/Storage.h"
#include "Orders/Order.h"

namespace HospitalBridge {

struct OrderFilter {
  std::vector<std::string> statuses;  // empty = any
  std::string fromDate;               // DICOM DA, inclusive
  std::string toDate;
  std::string modality;
  std::string stationAet;
  std::string patientId;
  std::string text;  // in patient name or ID, accession, procedure description
  int limit = 50;
  int offset = 0;
};

struct OrderPage {
  std::vector<Order> orders;
  int64_t total = 0;
};

// What SQL can narrow before the worklist's own matching decides.
struct WorklistPrefilter {
  std::vector<std::string> statuses;
  std::string fromDate;  // DICOM DA, inclusive; "" = open
  std::string toDate;
  std::string modality;  // exact, "" = any
  std::string stationAet;
  std::string accession;
  std::string patientId;
  std::vector<std::string> studyUids;
  int limit = 0;  // 0 = no limit
};

class OrderStore {
 public:
  explicit OrderStore(IDatabase& database) : database_(database) {}
  IDatabase& Database() { return database_; }

  // Sets order.id. DomainError (conflict) when the accession number or the
  // StudyInstanceUID is taken.
  void Insert(Transaction& transaction, Order& order);
  void Update(Transaction& transaction, const Order& order);
  // The next value of the accession counter of `prefix` (1, 2, ...).
  int64_t NextCounter(Transaction& transaction, const std::string& prefix);

  std::optional<Order> Find(int64_t id);
  std::optional<Order> Find(Transaction& transaction, int64_t id);
  std::optional<Order> FindByAccession(Transaction& transaction, const std::string& accession);
  std::optional<Order> FindByStudyUid(Transaction& transaction, const std::string& studyUid);
  OrderPage List(const OrderFilter& filter);
  std::vector<Order> WorklistCandidates(const WorklistPrefilter& filter);
  // Orders of a patient around a date, for the reconciliation's candidates.
  // Open orders of the patient, or scheduled on one of `dates` (DICOM DA)
  // for `modality` ("" = any): the same patient's first, newest first.
  std::vector<Order> Candidates(const std::string& patientId, const std::vector<std::string>& dates,
                                const std::string& modality, int limit);
  int64_t CountByStatus(const std::string& status);

  void AddHistory(Transaction& transaction, int64_t orderId, const OrderHistoryEntry& entry);
  std::vector<OrderHistoryEntry> History(int64_t orderId);

  // False when the study was linked already (to this or another order).
  bool Link(Transaction& transaction, const OrderStudyLink& link);
  std::optional<OrderStudyLink> LinkOf(Transaction& transaction, const std::string& orthancId);
  std::vector<OrderStudyLink> LinksOfOrder(int64_t orderId);
  // The link of each StudyInstanceUID that has one.
  std::vector<OrderStudyLink> LinksOfStudies(const std::vector<std::string>& studyUids);
  void Unlink(Transaction& transaction, const std::string& orthancId);

  // False when the study is listed already.
  bool AddMismatch(Transaction& transaction, const OrderMismatch& mismatch);
  std::optional<OrderMismatch> FindMismatch(const std::string& orthancId);
  std::optional<OrderMismatch> FindMismatch(Transaction& transaction, const std::string& orthancId);
  // Open ones (resolved_at = 0) newest first, or all.
  std::vector<OrderMismatch> Mismatches(bool openOnly, int limit, int offset, int64_t& total);
  // False when it was resolved already.
  bool ResolveMismatch(Transaction& transaction, const std::string& orthancId, const std::string& by,
                       const std::string& resolution, int64_t now);

  int64_t InsertAttachment(Transaction& transaction, const OrderAttachment& attachment);
  void UpdateAttachment(Transaction& transaction, const OrderAttachment& attachment);
  std::optional<OrderAttachment> FindAttachment(int64_t id);
  // Not done nor failed, oldest first.
  std::vector<OrderAttachment> UnfinishedAttachments();
  std::vector<OrderAttachment> AttachmentsOfStudy(const std::string& sourceOrthancId);

 private:
  std::vector<Order> Select(Transaction& transaction, const std::string& where,
                            const std::vector<std::string>& parameters, const std::string& tail);
  IDatabase& database_;
};

}  // namespace HospitalBridge
