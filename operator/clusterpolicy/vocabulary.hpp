// The operator's vocabulary: every label and annotation key it reads or writes,
// the condition types and reasons of the ClusterPolicy status, the reasons of the
// Events it records, and the one builder of the owner reference and common labels
// its objects carry. Nothing here decides anything; a name users can see is spelt
// once, here.
//
// Contract: every key this project invents lives under kKeyPrefix
// (clusterpolicy-operator.dev/). NVIDIA's own keys (node labels the GPU Operator and
// its operands define) keep NVIDIA's names. A key renamed since release 0.1.0 keeps
// its old spelling in `legacy`: objects that release wrote are still read (see
// find_key), never written.
#pragma once

#include <array>
#include <initializer_list>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cpo::clusterpolicy {

inline constexpr const char* kOperatorName = "clusterpolicy-operator";
inline constexpr const char* kKeyPrefix = "clusterpolicy-operator.dev/";

// ---- keys this project invents ---------------------------------------------------------

// On the consumers' pod templates: the config hash they mount; a new hash rolls the pods.
inline constexpr const char* kConfigHashAnnotation = "clusterpolicy-operator.dev/config-hash";
// On every applied object: the digest of what was applied (see the controller).
inline constexpr const char* kAppliedDigestAnnotation = "clusterpolicy-operator.dev/applied-digest";
// On a ClusterPolicy: its own rollout deadline, e.g. "90s".
inline constexpr const char* kRolloutDeadlineAnnotation = "clusterpolicy-operator.dev/rollout-deadline";
// On a ClusterPolicy: "warn" makes keys of the device-plugin config that the deployed
// plugin ignores warnings instead of refusals (a ConfigMap shared by several plugin
// releases). Absent or any other value: "refuse".
inline constexpr const char* kUnknownConfigKeysAnnotation = "clusterpolicy-operator.dev/unknown-config-keys";
// On a ClusterPolicy: how long a node may disagree with a config rolled out everywhere
// before it is reported Mismatched, e.g. "5m" (the run flag's value otherwise).
inline constexpr const char* kEffectGracePeriodAnnotation = "clusterpolicy-operator.dev/effect-grace-period";
// On a ClusterPolicy: how long another manager must leave a held operand alone
// before it is applied again, e.g. "10m" (the run flag's value otherwise).
inline constexpr const char* kConflictQuietPeriodAnnotation = "clusterpolicy-operator.dev/conflict-quiet-period";
// On a ClusterPolicy: any new value applies every held operand again at once.
inline constexpr const char* kResumeApplyAnnotation = "clusterpolicy-operator.dev/resume-apply";
// On config snapshots: the source ConfigMap, the hash (label, cut to 63 characters),
// the full sha256, and the default key and MIG strategy validated with the data.
inline constexpr const char* kSnapshotSourceLabel = "clusterpolicy-operator.dev/config-source";
inline constexpr const char* kSnapshotHashLabel = "clusterpolicy-operator.dev/config-hash";
inline constexpr const char* kSnapshotSha256Annotation = "clusterpolicy-operator.dev/config-sha256";
inline constexpr const char* kSnapshotDefaultAnnotation = "clusterpolicy-operator.dev/config-default";
inline constexpr const char* kSnapshotMigStrategyAnnotation = "clusterpolicy-operator.dev/mig-strategy";

// The same keys as release 0.1.0 spelt them, under NVIDIA's domain. Read, never written.
namespace legacy {
inline constexpr const char* kConfigHashAnnotation = "nvidia.com/device-plugin.config-hash";
inline constexpr const char* kAppliedDigestAnnotation = "clusterpolicy.nvidia.com/applied-digest";
inline constexpr const char* kRolloutDeadlineAnnotation = "nvidia.com/rollout-deadline";
inline constexpr const char* kSnapshotSourceLabel = "nvidia.com/device-plugin.config-source";
inline constexpr const char* kSnapshotHashLabel = "nvidia.com/device-plugin.config-hash";
inline constexpr const char* kSnapshotSha256Annotation = "nvidia.com/device-plugin.config-sha256";
inline constexpr const char* kSnapshotDefaultAnnotation = "nvidia.com/device-plugin.config-default";
inline constexpr const char* kSnapshotMigStrategyAnnotation = "nvidia.com/device-plugin.mig-strategy";
}  // namespace legacy

// ---- Kubernetes' recommended labels, on every object the operator creates ---------------

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kPartOfLabel = "app.kubernetes.io/part-of";
// The label selector of the operator's own objects (its informers watch only these).
inline const std::string kManagedBySelector = std::string(kManagedByLabel) + "=" + kOperatorName;

// ---- NVIDIA's keys: read or set as the GPU Operator does ------------------------------

inline constexpr const char* kGpuPresentLabel = "nvidia.com/gpu.present";
inline constexpr const char* kNfdNvidiaPciLabel = "feature.node.kubernetes.io/pci-10de.present";
inline constexpr const char* kDeployOperandsLabel = "nvidia.com/gpu.deploy.operands";
inline constexpr const char* kDeployDevicePluginLabel = "nvidia.com/gpu.deploy.device-plugin";
inline constexpr const char* kDeployGfdLabel = "nvidia.com/gpu.deploy.gpu-feature-discovery";
inline constexpr const char* kMpsCapableLabel = "nvidia.com/mps.capable";
inline constexpr const char* kComputeMajorLabel = "nvidia.com/gpu.compute.major";
inline constexpr const char* kComputeMinorLabel = "nvidia.com/gpu.compute.minor";
// The node label config-manager reads to pick a config key.
inline constexpr const char* kConfigNodeLabel = "nvidia.com/device-plugin.config";
// What GPU Feature Discovery publishes about sharing (read to verify a config's effect).
inline constexpr const char* kGpuCountLabel = "nvidia.com/gpu.count";
inline constexpr const char* kGpuReplicasLabel = "nvidia.com/gpu.replicas";
inline constexpr const char* kGpuSharingStrategyLabel = "nvidia.com/gpu.sharing-strategy";
inline constexpr const char* kGpuProductLabel = "nvidia.com/gpu.product";
// Every Node label the operator reads: the Node cache keeps these and no others
// (node_cache.cpp), so a label read anywhere must be listed here.
inline constexpr std::array<const char*, 13> kNodeLabelsRead = {
    kGpuPresentLabel,    kNfdNvidiaPciLabel, kDeployOperandsLabel, kDeployDevicePluginLabel, kDeployGfdLabel,
    kMpsCapableLabel,    kComputeMajorLabel, kComputeMinorLabel,   kConfigNodeLabel,         kGpuCountLabel,
    kGpuReplicasLabel,   kGpuSharingStrategyLabel, kGpuProductLabel};

// ---- the ClusterPolicy status ---------------------------------------------------------

namespace condition {
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kError = "Error";
inline constexpr const char* kProgressing = "Progressing";
inline constexpr const char* kConfigValid = "ConfigValid";
inline constexpr const char* kConflict = "Conflict";  // True: an operand is held (another manager writes it)
}  // namespace condition

// Reasons of Ready, Error, Progressing and ConfigValid.
namespace reason {
inline constexpr const char* kReconciled = "Reconciled";
inline constexpr const char* kAsExpected = "AsExpected";            // Error=False
inline constexpr const char* kRollingOut = "RollingOut";            // Progressing=True: operands updating
inline constexpr const char* kConvergingOnNodes = "ConvergingOnNodes";  // Progressing=True: nodes pending
inline constexpr const char* kComplete = "Complete";                // Progressing=False
inline constexpr const char* kConfigPending = "ConfigPending";      // Ready=False: nodes not showing it yet
inline constexpr const char* kConfigMismatched = "ConfigMismatched";  // nodes disagree past the grace period
inline constexpr const char* kNoGpuNodes = "NoGPUNodes";
inline constexpr const char* kOperandNotReady = "OperandNotReady";
inline constexpr const char* kIgnored = "Ignored";
inline constexpr const char* kInvalidSpec = "InvalidSpec";
inline constexpr const char* kRenderFailed = "RenderFailed";
inline constexpr const char* kReconcileFailed = "ReconcileFailed";
inline constexpr const char* kConfigInvalid = "ConfigInvalid";
inline constexpr const char* kConfigMissing = "ConfigMissing";
inline constexpr const char* kRolloutFailed = "RolloutFailed";
inline constexpr const char* kValid = "Valid";  // ConfigValid=True
inline constexpr const char* kOperandConflict = "OperandConflict";  // Conflict=True (and Error, Ready)
inline constexpr const char* kNoConflict = "NoConflict";            // Conflict=False
}  // namespace reason

// ---- Events ---------------------------------------------------------------------------

namespace event_reason {
inline constexpr const char* kIgnored = "Ignored";
inline constexpr const char* kInvalidSpec = "InvalidSpec";
inline constexpr const char* kInvalidAnnotation = "InvalidAnnotation";
inline constexpr const char* kCreated = "Created";
inline constexpr const char* kUpdated = "Updated";
inline constexpr const char* kDeleted = "Deleted";
inline constexpr const char* kApplyFailed = "ApplyFailed";
inline constexpr const char* kConfigInvalid = "ConfigInvalid";
inline constexpr const char* kConfigMissing = "ConfigMissing";
inline constexpr const char* kConfigRollingOut = "ConfigRollingOut";
inline constexpr const char* kConfigRolledOut = "ConfigRolledOut";
inline constexpr const char* kRolloutFailed = "RolloutFailed";
inline constexpr const char* kNodeSelectsUnknownConfig = "NodeSelectsUnknownConfig";
inline constexpr const char* kConfigMismatched = "ConfigMismatched";
inline constexpr const char* kConfigInEffect = "ConfigInEffect";
inline constexpr const char* kOperandConflict = "OperandConflict";
inline constexpr const char* kOperandResumed = "OperandResumed";
}  // namespace event_reason

// ---- builders -------------------------------------------------------------------------

// [the ClusterPolicy `name`/`uid` as controller owner]: deleting it garbage-collects
// what it owns.
inline nlohmann::json owner_references(const std::string& name, const std::string& uid) {
  return nlohmann::json::array({{{"apiVersion", "nvidia.com/v1"},
                                 {"kind", "ClusterPolicy"},
                                 {"name", name},
                                 {"uid", uid},
                                 {"controller", true},
                                 {"blockOwnerDeletion", true}}});
}

// The labels every object the operator creates carries.
inline nlohmann::json common_labels() { return {{kManagedByLabel, kOperatorName}, {kPartOfLabel, kOperatorName}}; }

// The string value of the first of `keys` that the map `labels_or_annotations` holds
// (std::nullopt when it holds none): the current key first, then its legacy spelling.
inline std::optional<std::string> find_key(const nlohmann::json& labels_or_annotations,
                                           std::initializer_list<const char*> keys) {
  if (!labels_or_annotations.is_object()) return std::nullopt;
  for (const char* key : keys) {
    auto it = labels_or_annotations.find(key);
    if (it != labels_or_annotations.end() && it->is_string()) return it->get<std::string>();
  }
  return std::nullopt;
}

}  // namespace cpo::clusterpolicy
