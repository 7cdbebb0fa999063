#include "start/demo_setup.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrent>

#include "background_job.h"
#include "common/thread_priority.h"
#include "data/demo_generator.h"
#include "train/demo_build.h"

namespace camx::ui {

struct DemoSetup::Job {
    CancelToken cancel;
};

namespace {
// What the worker reports: the dataset once it exists, then the end.
struct DemoEvent {
    enum Kind { DatasetReady, Finished } kind = Finished;
    QString path;
    QString error;
};
}  // namespace

DemoSetup::DemoSetup(QObject* parent) : QObject(parent) {}

DemoSetup::~DemoSetup() {
    cancel();
}

bool DemoSetup::ready() {
    return demoIsReady();
}

QString DemoSetup::datasetDir() {
    return QString::fromStdString(demoDatasetDir().string());
}

QString DemoSetup::modelFile() {
    return QString::fromStdString(demoModelFile().string());
}

void DemoSetup::cancel() {
    if (!m_job) return;
    m_job->cancel.cancel();
    m_job.reset();
}

void DemoSetup::start() {
    if (m_job) return;
    auto job = std::make_shared<Job>();
    m_job = job;
    auto* watcher = new QFutureWatcher<DemoEvent>(this);
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this, [this, job, watcher](int v) {
        if (m_job == job) Q_EMIT progress(v, watcher->progressMaximum(), watcher->progressText());
    });
    connect(watcher, &QFutureWatcherBase::resultReadyAt, this, [this, job, watcher](int index) {
        if (m_job != job) return;  // cancelled: nothing more is announced
        const DemoEvent e = watcher->resultAt(index);
        if (e.kind == DemoEvent::DatasetReady) {
            Q_EMIT datasetReady(e.path);
        } else {
            m_job.reset();
            Q_EMIT finished(e.path, e.error);
        }
    });
    connect(watcher, &QFutureWatcherBase::finished, watcher, &QObject::deleteLater);
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [job](QPromise<DemoEvent>& promise) {
        lowerCurrentThreadPriority();
        DemoEvent end;
        try {
            DemoBuildOptions o;
            o.job.cancel = &job->cancel;
            o.job.progress = progressTo(promise);
            o.onDatasetReady = [&promise](const std::filesystem::path& dir) {
                promise.addResult(
                    DemoEvent{DemoEvent::DatasetReady, QString::fromStdString(dir.string()), {}});
            };
            const DemoBuild b = buildDemo(o);
            end.path = QString::fromStdString(b.model.string());
        } catch (const Cancelled&) {
            end.error = QObject::tr("cancelled");
        } catch (const std::exception& e) {
            end.error = QString::fromStdString(e.what());
        }
        promise.addResult(end);
    }));
}

}  // namespace camx::ui
