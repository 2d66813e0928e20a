#pragma once
// External names of the reference's stage files (docs/method.md §3.5, §6, §7, §8), in one table.
// Every reader and writer in distil/ and pipeline/ spells field names through these constants.
#include "scene/scene_fields.h"

namespace um::distil::fields {

// Scene records (§3.5): scene/scene_fields.h, the scene record's owner; the names are visible here
// as distil::fields::kUserId etc., since the probs files share user_id and item_id.
using namespace scene::fields;  // NOLINT(google-build-using-namespace)

// Decisions files: OpenAI batch output lines (§6).
inline constexpr const char* kCustomId = "custom_id";
inline constexpr const char* kResponse = "response";
inline constexpr const char* kBody = "body";
inline constexpr const char* kChoices = "choices";
inline constexpr const char* kMessage = "message";
inline constexpr const char* kContent = "content";
inline constexpr const char* kRole = "role";
inline constexpr const char* kStatusCode = "status_code";
inline constexpr const char* kError = "error";
inline constexpr const char* kId = "id";
inline constexpr const char* kIndex = "index";
inline constexpr const char* kFinishReason = "finish_reason";

// Probs files: <WORK>/probs/<DS>_probs_<variant>.jsonl (§7 step 6).
inline constexpr const char* kDecisionList = "decision_list";
inline constexpr const char* kChoice = "choice";

// Preference / SFT files (§8.7).
inline constexpr const char* kMessagesChosen = "messages_chosen";
inline constexpr const char* kMessagesRejected = "messages_rejected";
inline constexpr const char* kBehaviorChosen = "behavior_chosen";
inline constexpr const char* kBehaviorRejected = "behavior_rejected";
inline constexpr const char* kMessages = "messages";

// Scene metrics (§8.3; the reference's column names).
inline constexpr const char* kCid = "cid";
inline constexpr const char* kTeacherEntropy = "teacher_entropy";
inline constexpr const char* kStudentEntropy = "student_entropy";
inline constexpr const char* kTeacherUncertainty = "teacher_uncertainty";
inline constexpr const char* kStudentUncertainty = "student_uncertainty";
inline constexpr const char* kTeacherDataUncertainty = "teacher_data_uncertainty";
inline constexpr const char* kStudentDataUncertainty = "student_data_uncertainty";
inline constexpr const char* kDiffAllUncertainty = "diff_all_uncertainty";
inline constexpr const char* kDiffModelUncertainty = "diff_model_uncertainty";
inline constexpr const char* kDiffDataUncertainty = "diff_data_uncertainty";
inline constexpr const char* kTeacherLogloss = "teacher_logloss";
inline constexpr const char* kStudentLogloss = "student_logloss";
inline constexpr const char* kTeacherHit = "teacher_hit";
inline constexpr const char* kStudentHit = "student_hit";
inline constexpr const char* kDiffHit = "diff_hit";
// Per-decision columns usable as the sampling column (§8.4).
inline constexpr const char* kEntropy = "entropy";
inline constexpr const char* kLogloss = "logloss";
inline constexpr const char* kRandom = "random";

// Chat message roles (§5.1).
inline constexpr const char* kSystem = "system";
inline constexpr const char* kUser = "user";
inline constexpr const char* kAssistant = "assistant";

}  // namespace um::distil::fields
