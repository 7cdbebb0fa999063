#pragma once
// What the explorer's background jobs share: the thread pool they run on, core's progress reports
// turned into QPromise progress (which a QFutureWatcher on the GUI thread receives, so a job never
// touches a widget or its owner), and the dataset read that the workspace and the training wizard
// both start.

#include <QFuture>
#include <QPromise>
#include <QString>
#include <filesystem>
#include <functional>
#include <memory>

#include "common/job.h"
#include "data/dataset.h"

class QThreadPool;

namespace camx::ui {

// The pool for long background jobs (loads, evaluations, training, demo, grid export): never Qt's
// global pool, which Qt itself uses for short work on the GUI thread's behalf (QPainter spreads
// smooth image scaling over it and waits): a long job queued there froze painting for as long as
// it ran. Owned by the application object; use from the GUI thread.
QThreadPool* backgroundPool();

// Core's progress into `promise`: range, value and the stage as text. The promise must outlive
// the returned function (it does within the QtConcurrent::run body that owns it).
template <typename T>
ProgressFn progressTo(QPromise<T>& promise) {
    return [&promise](const Progress& p) {
        promise.setProgressRange(0, static_cast<int>(p.total));
        promise.setProgressValueAndText(static_cast<int>(p.done), QString::fromStdString(p.stage));
    };
}

// What reads a dataset folder on a worker thread; it must poll options.job's cancel token.
// Other dataset formats plug in here.
using DatasetReader =
    std::function<Dataset(const std::filesystem::path& dir, const OpenOptions& options)>;
// openDataset: every format, detected unless the options name one.
DatasetReader standardDatasetReader();

struct DatasetReadOutcome {
    std::shared_ptr<const Dataset> dataset;  // null on failure
    QString error;                           // "cancelled" when the token fired
};

// Reads `dir` with `reader` on a pool thread at background priority, reporting progress through
// the future. The job holds `cancel` and `options` itself, so its starter may go away without
// waiting for it.
QFuture<DatasetReadOutcome> readDatasetInBackground(const std::filesystem::path& dir,
                                                    OpenOptions options, DatasetReader reader,
                                                    std::shared_ptr<const CancelToken> cancel);

}  // namespace camx::ui
