#pragma once
// What the window shows while nothing is open: try the demo (made and trained in the background
// the first time), open a dataset or a model (with a line on each format), the recent ones, and
// whether to reopen the last ones at start. The page only asks; MainWindow does the opening.

#include <QStringList>
#include <QWidget>

class QCheckBox;
class QCommandLinkButton;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace camx::ui {

class StartPage : public QWidget {
    Q_OBJECT
public:
    explicit StartPage(QWidget* parent = nullptr);

    void setRecent(const QStringList& datasets, const QStringList& models);
    // The demo button's promise: ready (opens at once) or made on first use.
    void setDemoReady(bool ready);
    // While the demo is being made: the stage and a progress bar with Cancel.
    void showDemoProgress(int done, int total, const QString& stage);
    // The end of making the demo: `message` (shown in red) empty on success.
    void showDemoFinished(const QString& message);

    // Settings key of the "reopen at start" box (default on).
    static QString reopenKey() { return QStringLiteral("start/reopenLast"); }

Q_SIGNALS:
    void demoRequested();
    void demoCancelRequested();
    void openDatasetRequested();
    void openModelRequested();
    void recentDatasetChosen(const QString& dir);
    void recentModelChosen(const QString& file);

private:
    QCommandLinkButton* m_demo;
    QWidget* m_demoProgressRow;
    QProgressBar* m_demoProgress;
    QLabel* m_demoStage;
    QPushButton* m_demoCancel;
    QLabel* m_demoError;
    QListWidget* m_recentData;
    QListWidget* m_recentModels;
    QLabel* m_recentDataTitle;
    QLabel* m_recentModelsTitle;
    QCheckBox* m_reopen;
};

}  // namespace camx::ui
