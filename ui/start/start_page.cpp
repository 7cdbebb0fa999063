#include "start/start_page.h"

#include <QCheckBox>
#include <QCommandLinkButton>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

namespace camx::ui {

namespace {
void fillRecent(QListWidget* list, QLabel* title, const QStringList& items) {
    list->clear();
    for (const QString& path : items) {
        const QFileInfo info(path);
        auto* item = new QListWidgetItem(
            QStringLiteral("%1  —  %2").arg(info.fileName(), info.absolutePath()), list);
        item->setData(Qt::UserRole, path);
        item->setToolTip(path);
    }
    list->setVisible(!items.isEmpty());
    title->setVisible(!items.isEmpty());
}
}  // namespace

StartPage::StartPage(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("startPage"));
    auto* title =
        new QLabel(tr("<h1>CAM Explorer</h1>"
                      "<p>See where a CNN looks: CAM, Grad-CAM and their kin, the boxes "
                      "they give, and their IoU with the ground truth.</p>"));
    title->setWordWrap(true);

    m_demo = new QCommandLinkButton(tr("Try the demo"));
    m_demo->setObjectName(QStringLiteral("tryDemo"));
    auto* openData = new QCommandLinkButton(
        tr("Open a dataset…"),
        tr("Stanford Dogs, CUB-200-2011, ImageNet validation, PASCAL VOC, a folder of class "
           "subfolders, or any of wsolevaluation's benchmarks with its metadata folder. The "
           "format is detected, or chosen in the dialog."));
    openData->setObjectName(QStringLiteral("openDatasetButton"));
    auto* openModel = new QCommandLinkButton(
        tr("Open a model…"),
        tr("A CAM Explorer checkpoint (.ckpt, from the training wizard or the CLI), a "
           "torchvision ResNet state dict (.pth) whose classes match the dataset, or your own "
           "TorchScript model (.pt, from torch.jit.trace or torch.jit.script)."));
    openModel->setObjectName(QStringLiteral("openModelButton"));

    m_demoProgress = new QProgressBar;
    m_demoProgress->setTextVisible(false);
    m_demoStage = new QLabel;
    m_demoStage->setObjectName(QStringLiteral("demoStage"));
    m_demoCancel = new QPushButton(tr("Cancel"));
    m_demoProgressRow = new QWidget;
    auto* progressLayout = new QHBoxLayout(m_demoProgressRow);
    progressLayout->setContentsMargins(24, 0, 0, 0);
    progressLayout->addWidget(m_demoStage, 1);
    progressLayout->addWidget(m_demoProgress, 1);
    progressLayout->addWidget(m_demoCancel);
    m_demoProgressRow->hide();
    m_demoError = new QLabel;
    m_demoError->setObjectName(QStringLiteral("demoError"));
    m_demoError->setWordWrap(true);
    m_demoError->setStyleSheet(QStringLiteral("color: #b00020"));
    m_demoError->hide();

    m_recentDataTitle = new QLabel(tr("<b>Recent datasets</b>"));
    m_recentModelsTitle = new QLabel(tr("<b>Recent models</b>"));
    m_recentData = new QListWidget;
    m_recentData->setObjectName(QStringLiteral("recentDatasets"));
    m_recentModels = new QListWidget;
    m_recentModels->setObjectName(QStringLiteral("recentModels"));
    for (QListWidget* l : {m_recentData, m_recentModels}) {
        l->setMaximumHeight(140);
        l->setTextElideMode(Qt::ElideMiddle);
    }

    m_reopen = new QCheckBox(tr("&Reopen the last dataset and model when CAM Explorer starts"));
    m_reopen->setObjectName(QStringLiteral("reopenLast"));
    m_reopen->setChecked(QSettings().value(reopenKey(), true).toBool());

    auto* column = new QVBoxLayout;
    column->addWidget(title);
    column->addSpacing(8);
    column->addWidget(m_demo);
    column->addWidget(m_demoProgressRow);
    column->addWidget(m_demoError);
    column->addWidget(openData);
    column->addWidget(openModel);
    column->addSpacing(8);
    column->addWidget(m_recentDataTitle);
    column->addWidget(m_recentData);
    column->addWidget(m_recentModelsTitle);
    column->addWidget(m_recentModels);
    column->addWidget(m_reopen);
    column->addStretch(1);
    // A readable column in the middle of a wide window.
    auto* outer = new QHBoxLayout(this);
    outer->addStretch(1);
    outer->addLayout(column, 4);
    outer->addStretch(1);

    connect(m_demo, &QAbstractButton::clicked, this, [this] {
        m_demoError->hide();
        Q_EMIT demoRequested();
    });
    connect(m_demoCancel, &QAbstractButton::clicked, this, &StartPage::demoCancelRequested);
    connect(openData, &QAbstractButton::clicked, this, &StartPage::openDatasetRequested);
    connect(openModel, &QAbstractButton::clicked, this, &StartPage::openModelRequested);
    connect(m_recentData, &QListWidget::itemActivated, this, [this](QListWidgetItem* i) {
        Q_EMIT recentDatasetChosen(i->data(Qt::UserRole).toString());
    });
    connect(m_recentModels, &QListWidget::itemActivated, this, [this](QListWidgetItem* i) {
        Q_EMIT recentModelChosen(i->data(Qt::UserRole).toString());
    });
    connect(m_reopen, &QCheckBox::toggled, this,
            [](bool on) { QSettings().setValue(reopenKey(), on); });
    setDemoReady(false);
    setRecent({}, {});
}

void StartPage::setRecent(const QStringList& datasets, const QStringList& models) {
    fillRecent(m_recentData, m_recentDataTitle, datasets);
    fillRecent(m_recentModels, m_recentModelsTitle, models);
}

void StartPage::setDemoReady(bool ready) {
    m_demo->setDescription(
        ready ? tr("A generated 10-breed dataset and a small ResNet-18 trained on it, from the "
                   "cache: opens at once.")
              : tr("Generates a 10-breed dataset and trains a small ResNet-18 on it, in the "
                   "background (done once, then cached; several minutes on a laptop). You can "
                   "browse the images while it trains."));
}

void StartPage::showDemoProgress(int done, int total, const QString& stage) {
    m_demo->setEnabled(false);
    m_demoProgressRow->show();
    m_demoError->hide();
    m_demoProgress->setRange(0, std::max(0, total));
    m_demoProgress->setValue(done);
    m_demoStage->setText(stage);
}

void StartPage::showDemoFinished(const QString& message) {
    m_demo->setEnabled(true);
    m_demoProgressRow->hide();
    m_demoError->setVisible(!message.isEmpty());
    m_demoError->setText(message);
}

}  // namespace camx::ui
