#pragma once
// A folder of outputs written as one set: every file goes into a hidden staging folder beside the
// target, and commit() swaps it in place of the target by renames. A failure or interruption
// before commit() leaves the previous outputs untouched and no mix of old and new files.

#include <filesystem>
#include <functional>

namespace camx {

class StagedFolder {
public:
    // `replaceable` says which entries of an existing target are outputs of the same kind (so the
    // set may replace them). The constructor refuses, with std::runtime_error naming the folder
    // and an offending entry, a target that is not a folder or that holds anything else: a
    // user's folder is never swapped away.
    StagedFolder(std::filesystem::path target,
                 std::function<bool(const std::filesystem::path& entry)> replaceable);
    ~StagedFolder();  // removes the staging folder unless committed
    StagedFolder(const StagedFolder&) = delete;
    StagedFolder& operator=(const StagedFolder&) = delete;

    // Where the files are written until commit().
    const std::filesystem::path& path() const { return m_staging; }
    const std::filesystem::path& target() const { return m_target; }
    // Puts the set in place of the target (the old outputs are removed afterwards). Throws
    // std::runtime_error naming the target when the swap fails; the old outputs are then kept.
    void commit();

private:
    std::filesystem::path m_target;
    std::filesystem::path m_staging;
    bool m_committed = false;
};

}  // namespace camx
