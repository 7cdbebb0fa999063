#pragma once
// "Try the demo" from the start page: makes the demo dataset and trains the demo model in the
// background when they are not in the cache yet (core's buildDemo), with progress and cancel.
// The dataset is announced as soon as it exists, so the user can browse it while the model
// trains. The job owns everything it touches: destroying this object cancels it without waiting.

#include <QObject>
#include <QString>
#include <memory>

namespace camx::ui {

class DemoSetup : public QObject {
    Q_OBJECT
public:
    explicit DemoSetup(QObject* parent = nullptr);
    ~DemoSetup() override;

    // Whether the demo dataset and a fully trained demo model are in the cache already.
    static bool ready();
    static QString datasetDir();
    static QString modelFile();

    // Starts making what is missing (no-op while running).
    void start();
    void cancel();
    bool isRunning() const { return m_job != nullptr; }

Q_SIGNALS:
    void progress(int done, int total, const QString& stage);
    void datasetReady(const QString& dir);
    // error: empty on success, "cancelled" when cancelled.
    void finished(const QString& modelFile, const QString& error);

private:
    struct Job;
    std::shared_ptr<Job> m_job;
};

}  // namespace camx::ui
