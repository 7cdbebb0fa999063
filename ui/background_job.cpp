#include "background_job.h"

#include <QCoreApplication>
#include <QPointer>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrent>

#include "common/thread_priority.h"

namespace camx::ui {

QThreadPool* backgroundPool() {
    static QPointer<QThreadPool> pool;
    if (!pool) {
        pool = new QThreadPool(QCoreApplication::instance());
        pool->setObjectName(QStringLiteral("camx background jobs"));
        // Jobs run long and mostly wait on LibTorch's own threads or on files: several at once
        // (an evaluation, a training run, a load) must not queue behind each other.
        pool->setMaxThreadCount(std::max(8, 2 * QThread::idealThreadCount()));
    }
    return pool;
}

DatasetReader standardDatasetReader() {
    return [](const std::filesystem::path& dir, const OpenOptions& options) {
        return openDataset(dir, options);
    };
}

QFuture<DatasetReadOutcome> readDatasetInBackground(const std::filesystem::path& dir,
                                                    OpenOptions options, DatasetReader reader,
                                                    std::shared_ptr<const CancelToken> cancel) {
    if (!reader) reader = standardDatasetReader();
    return QtConcurrent::run(
        backgroundPool(),
        [dir, options = std::move(options), reader = std::move(reader),
         cancel = std::move(cancel)](QPromise<DatasetReadOutcome>& promise) mutable {
            lowerCurrentThreadPriority();
            DatasetReadOutcome out;
            try {
                options.job.cancel = cancel.get();
                options.job.progress = progressTo(promise);
                out.dataset = std::make_shared<const Dataset>(reader(dir, options));
            } catch (const Cancelled&) {
                out.error = QCoreApplication::translate("camx::ui::Workspace", "cancelled");
            } catch (const std::exception& e) {
                out.error = QString::fromStdString(e.what());
            }
            promise.addResult(std::move(out));
        });
}

}  // namespace camx::ui
