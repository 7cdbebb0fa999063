#include "dashboard/eval_dashboard.h"

#include <QAreaSeries>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <QXYSeries>
#include <QtConcurrent>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <utility>

#include "background_job.h"
#include "browser/dataset_text.h"
#include "charts/eval_charts.h"
#include "charts/faith_charts.h"
#include "common/thread_priority.h"
#include "explain/model_session.h"
#include "workspace.h"

namespace camx::ui {

namespace {
constexpr int kSortRole = Qt::UserRole + 1;
constexpr int kLabelRole = Qt::UserRole + 2;
constexpr int kTapRole = Qt::UserRole + 3;
// A method's best and worst images, this many of each.
constexpr std::size_t kBestWorst = 20;
constexpr const char* kPartialFile = "eval_partial.jsonl";

QStandardItem* numberItem(double v, int decimals = 3) {
    auto* item = new QStandardItem(QString::number(v, 'f', decimals));
    item->setData(v, kSortRole);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    item->setEditable(false);
    return item;
}

QString pathText(const std::filesystem::path& p) {
    return QDir::toNativeSeparators(QString::fromStdString(p.string()));
}

QString boxRuleText(BoxMode m) {
    switch (m) {
        case BoxMode::Largest:
            return QObject::tr("largest component (CAM paper)");
        case BoxMode::BestOfAll:
            return QObject::tr("best of all components (MaxBoxAccV2)");
        case BoxMode::CourseContour:
            return QObject::tr("first contour (course)");
    }
    return {};
}

QString scoreText(ScoreKind s) {
    return s == ScoreKind::Logit ? QObject::tr("logit") : QObject::tr("softmax probability");
}

QString protocolText(const EvalOptions& o) {
    return o.protocol == EvalProtocol::Wsol
               ? QObject::tr("WSOL (wsolevaluation, 224 px, threshold step %1)")
                     .arg(o.wsolStep, 0, 'g', 3)
               : QObject::tr("CAM Explorer's (image size, τ sweep)");
}

// The figures wsolevaluation's authors publish for CAM with a ResNet-50 backbone (Choe et al.,
// "Evaluating Weakly Supervised Object Localization Methods Right", CVPR 2020, Table 4), per
// benchmark: ImageNet and CUB by MaxBoxAccV2, OpenImages by PxAP, all in percent.
struct PublishedFigure {
    const char* benchmark;  // Dataset::benchmark
    const char* dataset;    // as people name it
    const char* metric;
    double value;
};
constexpr PublishedFigure kPublished[] = {
    {"CUB", "CUB-200-2011", "MaxBoxAccV2", 63.0},
    {"ILSVRC", "ImageNet (ILSVRC)", "MaxBoxAccV2", 63.7},
    {"OpenImages", "OpenImages", "PxAP", 58.5},
};

const PublishedFigure* publishedFor(const std::string& benchmark) {
    QString b = QString::fromStdString(benchmark);
    if (b.compare(QLatin1String("ImageNet"), Qt::CaseInsensitive) == 0)
        b = QStringLiteral("ILSVRC");
    for (const auto& p : kPublished)
        if (b.compare(QLatin1String(p.benchmark), Qt::CaseInsensitive) == 0) return &p;
    return nullptr;
}

constexpr const char* kProtocolKey = "eval/protocol";
constexpr const char* kWsolStepKey = "eval/wsolStep";
constexpr const char* kMetricsKey = "eval/metrics";

// The faithfulness metrics under Metrics…: parseMetricList's names, what the menu says.
struct MetricChoice {
    const char* id;
    const char* text;
};
constexpr MetricChoice kMetricChoices[] = {
    {"deletion", QT_TRANSLATE_NOOP("EvalDashboard", "Deletion (AUC, curve)")},
    {"insertion", QT_TRANSLATE_NOOP("EvalDashboard", "Insertion (AUC, curve)")},
    {"road", QT_TRANSLATE_NOOP("EvalDashboard", "ROAD (MoRF, LeRF)")},
    {"drop", QT_TRANSLATE_NOOP("EvalDashboard", "Confidence drop / increase")},
    {"pointing", QT_TRANSLATE_NOOP("EvalDashboard", "Pointing games")},
    {"sanity", QT_TRANSLATE_NOOP("EvalDashboard", "Sanity check (randomised weights)")},
};

// "deletion, road, sanity": what the settings line says.
std::string metricListText(const MetricOptions& o) {
    std::string s;
    auto add = [&](bool on, const char* id) {
        if (on) s += (s.empty() ? "" : ", ") + std::string(id);
    };
    add(o.deletion, "deletion");
    add(o.insertion, "insertion");
    add(o.road, "ROAD");
    add(o.drop, "confidence drop");
    add(o.pointing, "pointing");
    add(o.sanity, "sanity check");
    return s;
}

// "deletion,road,sanity": the known entries in metricListId's fixed order; an unknown one (an
// older or newer settings file) is dropped alone.
QString normalizedMetricList(const QString& list) {
    MetricOptions o;
    for (const QString& id : list.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        try {
            parseMetricList(id.trimmed().toStdString(), &o);
        } catch (const std::invalid_argument&) {
        }
    }
    return QString::fromStdString(metricListId(o));
}

// τ as it is written in a resume key (a float) against the explorer's (a double).
bool sameTau(double a, double b) {
    return std::abs(a - b) < 5e-4;
}
}  // namespace

// One evaluation run: what its worker fills in, read on the GUI thread once it has finished. The
// worker holds the run, the model and the dataset, so a context switch (or closing the dashboard)
// cancels it and moves on without waiting for it.
struct EvalDashboard::Run {
    std::uint64_t generation = 0;  // the dashboard's m_generation when it started
    std::uint64_t context = 0;     // the workspace's context() when it started
    std::filesystem::path dir;
    QString modelName;
    std::string modelSource;
    SplitKind split = SplitKind::Test;
    EvalOptions options;
    CancelToken cancel;
    std::optional<EvalResult> result;  // empty when cancelled or failed
    QString error;
};

// A background read of what is kept in a results folder.
struct EvalDashboard::LoadedEvaluation {
    std::uint64_t generation = 0;
    std::uint64_t context = 0;
    std::filesystem::path dir;
    std::shared_ptr<const SavedEvaluation> evaluation;  // records.jsonl, when there is one
    QString error;
    // eval_partial.jsonl: an interrupted run that Evaluate resumes with the same settings.
    bool partial = false;
    std::size_t partialImages = 0;
    std::size_t partialTotal = 0;
    double partialTau = 0;
    std::vector<int> partialTaps;
    std::size_t partialLimit = 0;
    QString partialMetrics;  // metricListId of the interrupted run, "" for none
    EvalProtocol partialProtocol = EvalProtocol::Ours;
    double partialWsolStep = 0.01;
};

EvalDashboard::EvalDashboard(QWidget* parent) : QWidget(parent) {
    setWindowTitle(tr("Evaluation Dashboard"));
    m_splitCombo = new QComboBox;
    m_splitCombo->setObjectName(QStringLiteral("evalSplitCombo"));
    m_splitCombo->setToolTip(tr("The split to evaluate (the explorer browses the same one)"));
    m_protocol = new QComboBox;
    m_protocol->setObjectName(QStringLiteral("evalProtocolCombo"));
    m_protocol->addItem(tr("Ours"), static_cast<int>(EvalProtocol::Ours));
    m_protocol->setItemData(0,
                            tr("CAM Explorer's protocol: maps at the image's own size, "
                               "connected-component boxes, the τ sweep of 0.05 steps"),
                            Qt::ToolTipRole);
    m_protocol->addItem(tr("WSOL"), static_cast<int>(EvalProtocol::Wsol));
    m_protocol->setItemData(1,
                            tr("wsolevaluation's protocol exactly (Choe et al., CVPR 2020): maps "
                               "at 224 × 224, contours per threshold, MaxBoxAccV2 at IoU 30/50/70, "
                               "MaxBoxAcc, and PxAP where the split has masks; comparable with the "
                               "published figures"),
                            Qt::ToolTipRole);
    m_protocol->setToolTip(tr("How maps become boxes and scores in a new evaluation"));
    m_wsolStep = new QComboBox;
    m_wsolStep->setObjectName(QStringLiteral("evalWsolStepCombo"));
    m_wsolStep->addItem(tr("step 0.01"), 0.01);
    m_wsolStep->setItemData(0, tr("The threshold step of wsolevaluation's evaluation.py"),
                            Qt::ToolTipRole);
    m_wsolStep->addItem(tr("step 0.001"), 0.001);
    m_wsolStep->setItemData(1, tr("The threshold step of wsolevaluation's config.py (slower)"),
                            Qt::ToolTipRole);
    m_wsolStep->setToolTip(tr("The WSOL protocol's score-map threshold step"));
    {
        const QSettings s;
        EvalProtocol p = EvalProtocol::Ours;
        if (s.value(kProtocolKey).toString() == QLatin1String("wsol")) p = EvalProtocol::Wsol;
        m_protocol->setCurrentIndex(m_protocol->findData(static_cast<int>(p)));
        const double step = s.value(kWsolStepKey, 0.01).toDouble();
        m_wsolStep->setCurrentIndex(step < 0.005 ? 1 : 0);
        m_wsolStep->setEnabled(p == EvalProtocol::Wsol);
    }
    m_metricsButton = new QToolButton;
    m_metricsButton->setObjectName(QStringLiteral("evalMetricsButton"));
    m_metricsButton->setPopupMode(QToolButton::InstantPopup);
    {
        auto* menu = new QMenu(m_metricsButton);
        menu->setToolTipsVisible(true);
        for (const auto& c : kMetricChoices) {
            QAction* a = menu->addAction(tr(c.text));
            a->setCheckable(true);
            a->setData(QString::fromLatin1(c.id));
            connect(a, &QAction::toggled, this, [this] {
                setMetricList(metricList());
                updateSettingsLine();
            });
        }
        menu->actions()[0]->setToolTip(
            tr("Steps + 1 forward passes per map (51 by default) and image"));
        menu->actions()[1]->setToolTip(
            tr("Steps + 1 forward passes per map (51 by default) and image"));
        menu->actions()[2]->setToolTip(tr("Two forward passes per percentile (MoRF, LeRF)"));
        menu->actions()[3]->setToolTip(tr("One forward pass per map: the image times the map"));
        menu->actions()[4]->setToolTip(tr("No forward pass; needs ground-truth boxes or masks"));
        menu->actions()[5]->setToolTip(
            tr("One explanation per cascade step: the model re-explained with its weights "
               "randomised top down"));
        m_metricsButton->setMenu(menu);
        // The remembered choice, read only (setMetricList would write it back).
        const QStringList chosen = normalizedMetricList(QSettings().value(kMetricsKey).toString())
                                       .split(QLatin1Char(','), Qt::SkipEmptyParts);
        for (QAction* a : menu->actions()) {
            const QSignalBlocker block(a);
            a->setChecked(chosen.contains(a->data().toString()));
        }
        updateMetricsButton();
    }
    m_layers = new QComboBox;
    m_layers->setObjectName(QStringLiteral("evalLayersCombo"));
    m_layers->addItem(tr("Last block"), 0);
    m_layers->addItem(tr("Every block (per-layer chart)"), 1);
    m_limit = new QSpinBox;
    m_limit->setObjectName(QStringLiteral("evalLimitSpin"));
    m_limit->setRange(0, 1000000);
    m_limit->setSpecialValueText(tr("whole split"));
    m_limit->setSuffix(tr(" images"));
    m_evaluate = new QPushButton(tr("&Evaluate"));
    m_evaluate->setObjectName(QStringLiteral("evalRunButton"));
    m_stop = new QPushButton(tr("&Cancel"));
    m_stop->setEnabled(false);
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("evalProgress"));
    m_progress->setTextVisible(true);
    m_progress->setMinimumWidth(80);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("evalStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_notice = new QLabel;
    m_notice->setObjectName(QStringLiteral("evalNotice"));
    m_notice->setWordWrap(true);
    m_notice->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_notice->hide();
    m_settings = new QLabel;
    m_settings->setObjectName(QStringLiteral("evalSettings"));
    m_settings->setWordWrap(true);
    m_stale = new QLabel;
    m_stale->setObjectName(QStringLiteral("evalStale"));
    m_stale->setWordWrap(true);
    m_stale->setStyleSheet(
        QStringLiteral("QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0c46c; "
                       "padding: 3px; }"));
    m_stale->hide();
    m_view = new QComboBox;
    m_view->setObjectName(QStringLiteral("evalViewLayerCombo"));
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("evalSummary"));
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_wsolFigures = new QLabel;
    m_wsolFigures->setObjectName(QStringLiteral("evalWsolFigures"));
    m_wsolFigures->setTextFormat(Qt::RichText);
    m_wsolFigures->setWordWrap(true);
    m_wsolFigures->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_wsolFigures->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_published = new QLabel;
    m_published->setObjectName(QStringLiteral("evalPublished"));
    m_published->setTextFormat(Qt::RichText);
    m_published->setWordWrap(true);
    m_published->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_published->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    // Set apart: these are someone else's numbers, not this evaluation's.
    m_published->setStyleSheet(
        QStringLiteral("QLabel { background: palette(alternate-base); border: 1px solid "
                       "palette(mid); padding: 4px; }"));
    m_published->setToolTip(
        tr("Figures published by Choe et al., \"Evaluating Weakly Supervised Object "
           "Localization Methods Right\", CVPR 2020: CAM with a ResNet-50 backbone, on the "
           "benchmark's test split. Not computed here."));
    m_wsolBox = new QWidget;
    m_wsolBox->setObjectName(QStringLiteral("evalWsolBox"));
    auto* wsolRow = new QHBoxLayout(m_wsolBox);
    wsolRow->setContentsMargins(0, 0, 0, 0);
    wsolRow->addWidget(m_wsolFigures, 3);
    wsolRow->addWidget(m_published, 2);
    m_wsolBox->hide();

    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Split:")));
    top->addWidget(m_splitCombo);
    top->addWidget(new QLabel(tr("Layers:")));
    top->addWidget(m_layers);
    top->addWidget(new QLabel(tr("Images:")));
    top->addWidget(m_limit);
    top->addWidget(new QLabel(tr("Protocol:")));
    top->addWidget(m_protocol);
    top->addWidget(m_wsolStep);
    top->addWidget(m_metricsButton);
    top->addWidget(m_evaluate);
    top->addWidget(m_stop);
    top->addWidget(m_progress, 1);
    auto* viewRow = new QHBoxLayout;
    viewRow->addWidget(new QLabel(tr("Charts show layer:")));
    viewRow->addWidget(m_view);
    // Interaction hints live on screen, never inside a chart (a saved chart has no use for them).
    auto* hint =
        new QLabel(tr("Click a histogram bar or a class to see its images in the "
                      "explorer; right-click a chart to save it."));
    auto* faithHint =
        new QLabel(tr("Click a method's curve or row to see its best and worst images in the "
                      "explorer; right-click a chart to save it."));
    faithHint->setObjectName(QStringLiteral("faithHint"));
    faithHint->setEnabled(false);
    faithHint->setWordWrap(true);
    hint->setObjectName(QStringLiteral("evalHint"));
    hint->setEnabled(false);  // drawn in the muted colour
    hint->setWordWrap(true);
    viewRow->addWidget(hint, 1);
    viewRow->addStretch();  // where the hint was, on the Faithfulness page

    auto* grid = new QGridLayout;
    auto* faithGrid = new QGridLayout;
    for (int i = 0; i < ChartCount; ++i) {
        auto* v = new QChartView;
        v->setRenderHint(QPainter::Antialiasing, true);
        v->setMinimumSize(300, 220);  // legible; the whole window still fits 1280×720
        v->setContextMenuPolicy(Qt::CustomContextMenu);
        v->setToolTip(i == Histogram ? tr("Click a bar to see its images in the explorer; "
                                          "right-click to save the chart as PNG or SVG")
                      : i >= Deletion
                          ? tr("Click a method's curve to see its best and worst images in "
                               "the explorer; right-click to save the chart as PNG or SVG")
                          : tr("Right-click to save the chart as PNG or SVG"));
        connect(v, &QWidget::customContextMenuRequested, this, [this, i](const QPoint&) {
            QMenu menu;
            menu.addAction(tr("Save Chart As…"), this, [this, i] { saveChartAs(i); });
            menu.exec(QCursor::pos());
        });
        m_charts[i] = v;
        if (i < Deletion) {
            grid->addWidget(v, i / 2, i % 2);
        } else {
            // Below the table: a little lower, so the page still fits 1280×720.
            v->setMinimumSize(280, 170);
            faithGrid->addWidget(v, (i - Deletion) / 2, (i - Deletion) % 2);
        }
    }
    m_breeds = new QStandardItemModel(this);
    auto* proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(m_breeds);
    proxy->setSortRole(kSortRole);
    proxy->setSortCaseSensitivity(Qt::CaseInsensitive);
    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("breedTable"));
    m_table->setModel(proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);  // A→Z by class
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setMinimumSectionSize(40);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignCenter);
    m_table->setMinimumWidth(260);
    m_table->setToolTip(tr("Click a class to see its evaluated images in the explorer"));
    connect(m_table, &QTableView::clicked, this, [this](const QModelIndex& index) {
        if (!index.isValid()) return;
        // The class of the clicked row, from the row itself (the view may be sorted), and its
        // images from the same records the row counts: the list always matches the table.
        const QModelIndex nameCell = index.sibling(index.row(), 0);
        const int label = nameCell.data(kLabelRole).toInt();
        const std::vector<int> rows = rowsOfBreed(label);
        Q_EMIT showImages(rows, tr("%1, evaluated images").arg(nameCell.data().toString()));
    });

    // Charts on the left, numbers on the right; the user can move the split between them.
    auto* leftPane = new QWidget;
    auto* left = new QVBoxLayout(leftPane);
    left->setContentsMargins(0, 0, 0, 0);
    left->addLayout(grid, 1);
    auto* rightPane = new QWidget;
    auto* right = new QVBoxLayout(rightPane);
    right->setContentsMargins(0, 0, 0, 0);
    right->addWidget(m_summary);
    right->addWidget(m_wsolBox);
    right->addWidget(m_table, 1);
    auto* body = new QSplitter(Qt::Horizontal);
    body->setObjectName(QStringLiteral("evalSplitter"));
    body->setChildrenCollapsible(false);
    body->addWidget(leftPane);
    body->addWidget(rightPane);
    body->setStretchFactor(0, 5);
    body->setStretchFactor(1, 3);

    // The Faithfulness page: why there is nothing, or the table over the charts.
    m_faithMessage = new QLabel;
    m_faithMessage->setObjectName(QStringLiteral("faithMessage"));
    m_faithMessage->setWordWrap(true);
    m_faithMessage->setAlignment(Qt::AlignCenter);
    m_faithMessage->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_sanityMeasure = new QComboBox;
    m_sanityMeasure->setObjectName(QStringLiteral("faithSanityMeasure"));
    m_sanityMeasure->addItem(tr("Spearman ρ"));
    m_sanityMeasure->addItem(tr("SSIM"));
    m_sanityMeasure->setToolTip(
        tr("How the sanity chart compares each map with the randomised model's: rank "
           "correlation (Spearman) or structural similarity (SSIM)"));
    m_faith = new QStandardItemModel(this);
    auto* faithProxy = new QSortFilterProxyModel(this);
    faithProxy->setSourceModel(m_faith);
    faithProxy->setSortRole(kSortRole);
    m_faithTable = new QTableView;
    m_faithTable->setObjectName(QStringLiteral("faithTable"));
    m_faithTable->setModel(faithProxy);
    m_faithTable->setSortingEnabled(true);
    m_faithTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_faithTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_faithTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_faithTable->setWordWrap(false);
    m_faithTable->verticalHeader()->hide();
    m_faithTable->horizontalHeader()->setDefaultAlignment(Qt::AlignCenter);
    m_faithTable->verticalHeader()->setDefaultSectionSize(m_faithTable->fontMetrics().height() + 8);
    m_faithTable->setToolTip(
        tr("Click a method to see its best and worst images by the clicked column's metric"));
    connect(m_faithTable, &QTableView::clicked, this, [this](const QModelIndex& index) {
        if (!index.isValid() || m_faithColumns.empty()) return;
        const QModelIndex nameCell = index.sibling(index.row(), 0);
        const int column = index.column() - 2;
        const FaithMetric metric = column >= 0 && column < static_cast<int>(m_faithColumns.size())
                                       ? m_faithColumns[static_cast<std::size_t>(column)]
                                       : m_faithColumns.front();
        showBestAndWorst(static_cast<Method>(nameCell.data(kLabelRole).toInt()),
                         nameCell.data(kTapRole).toInt(), metric);
    });
    auto* faithRow = new QHBoxLayout;
    faithRow->addWidget(faithHint, 1);
    faithRow->addWidget(new QLabel(tr("Sanity chart:")));
    faithRow->addWidget(m_sanityMeasure);
    auto* faithCharts = new QWidget;
    faithGrid->setContentsMargins(0, 0, 0, 0);
    faithCharts->setLayout(faithGrid);
    auto* faithSplit = m_faithSplit = new QSplitter(Qt::Vertical);
    faithSplit->setObjectName(QStringLiteral("faithSplitter"));
    faithSplit->setChildrenCollapsible(false);
    faithSplit->addWidget(m_faithTable);
    faithSplit->addWidget(faithCharts);
    faithSplit->setStretchFactor(0, 1);
    faithSplit->setStretchFactor(1, 4);
    m_faithBody = new QWidget;
    auto* faithBody = new QVBoxLayout(m_faithBody);
    faithBody->setContentsMargins(0, 0, 0, 0);
    faithBody->addLayout(faithRow);
    faithBody->addWidget(faithSplit, 1);
    m_faithPage = new QWidget;
    m_faithPage->setObjectName(QStringLiteral("faithPage"));
    auto* faithPage = new QVBoxLayout(m_faithPage);
    // A readable line length, centred.
    m_faithMessage->setMaximumWidth(720);
    auto* messageRow = new QHBoxLayout;
    messageRow->addStretch(1);
    messageRow->addWidget(m_faithMessage, 10);
    messageRow->addStretch(1);
    faithPage->addLayout(messageRow, 1);
    faithPage->addWidget(m_faithBody, 100);

    auto* localisationPage = new QWidget;
    auto* localisation = new QVBoxLayout(localisationPage);
    localisation->setContentsMargins(0, 4, 0, 0);
    localisation->addWidget(body, 1);
    m_pages = new QTabWidget;
    m_pages->setObjectName(QStringLiteral("evalPages"));
    m_pages->setDocumentMode(true);
    m_pages->addTab(localisationPage, tr("Localisation"));
    m_pages->addTab(m_faithPage, tr("Faithfulness"));
    m_pages->setTabToolTip(1, tr("Deletion, insertion, ROAD, confidence drop, pointing games "
                                 "and the sanity check, per method and for the baseline maps"));
    // The layer combo serves both pages; the hint is the localisation page's.
    connect(m_pages, &QTabWidget::currentChanged, this,
            [hint](int page) { hint->setVisible(page == 0); });

    auto* root = new QVBoxLayout(this);
    root->addLayout(top);
    root->addWidget(m_status);
    root->addWidget(m_notice);
    root->addWidget(m_settings);
    root->addWidget(m_stale);
    root->addLayout(viewRow);
    root->addWidget(m_pages, 1);

    connect(m_evaluate, &QPushButton::clicked, this,
            [this] { startEvaluation(static_cast<std::size_t>(m_limit->value())); });
    connect(m_stop, &QPushButton::clicked, this, &EvalDashboard::cancel);
    connect(m_view, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
    connect(m_sanityMeasure, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
    connect(m_splitCombo, &QComboBox::currentIndexChanged, this, [this] {
        const auto split = static_cast<SplitKind>(m_splitCombo->currentData().toInt());
        rememberSplit(split);
        if (m_workspace) m_workspace->setSplit(split);
    });
    auto protocolChanged = [this] { setProtocol(protocol(), wsolStep()); };
    connect(m_protocol, &QComboBox::currentIndexChanged, this, protocolChanged);
    connect(m_wsolStep, &QComboBox::currentIndexChanged, this, protocolChanged);
    setContext(nullptr, nullptr, SplitKind::Test, 0);
}

EvalDashboard::~EvalDashboard() {
    // Never waits: every job holds its own state and reports to a watcher this object owns,
    // which goes with it.
    if (m_run) m_run->cancel.cancel();
    for (const auto& r : m_windingDown) r->cancel.cancel();
}

std::filesystem::path EvalDashboard::resultsDir() const {
    return m_model ? evaluationDirFor(m_model->info().source, m_split) : std::filesystem::path();
}

QString EvalDashboard::message() const {
    return m_notice->isHidden() ? m_status->text()
                                : m_status->text() + QLatin1Char('\n') + m_notice->text();
}

bool EvalDashboard::isRunning() const {
    return m_run != nullptr;
}

QString EvalDashboard::splitName(SplitKind split) const {
    return splitDisplayName(split);
}

void EvalDashboard::updateSplitCombo() {
    fillSplitCombo(m_splitCombo, m_dataset.get(), m_split);
}

void EvalDashboard::setProtocol(EvalProtocol protocol, double wsolStep) {
    {
        const QSignalBlocker a(m_protocol), b(m_wsolStep);
        m_protocol->setCurrentIndex(m_protocol->findData(static_cast<int>(protocol)));
        m_wsolStep->setCurrentIndex(wsolStep < 0.005 ? 1 : 0);
    }
    m_wsolStep->setEnabled(protocol == EvalProtocol::Wsol);
    QSettings s;
    s.setValue(kProtocolKey,
               protocol == EvalProtocol::Wsol ? QStringLiteral("wsol") : QStringLiteral("ours"));
    s.setValue(kWsolStepKey, this->wsolStep());
    updateSettingsLine();
}

EvalProtocol EvalDashboard::protocol() const {
    return static_cast<EvalProtocol>(m_protocol->currentData().toInt());
}

double EvalDashboard::wsolStep() const {
    return m_wsolStep->currentData().toDouble();
}

EvalOptions EvalDashboard::newRunOptions() const {
    EvalOptions o;
    o.tau = static_cast<float>(m_workspace ? m_workspace->threshold() : EvalOptions{}.tau);
    o.sweep = EvalOptions::defaultSweep(0.05f);
    o.protocol = protocol();
    o.wsolStep = wsolStep();
    parseMetricList(metricList().toStdString(), &o.metrics);  // normalised: known names only
    return o;
}

void EvalDashboard::setMetricList(const QString& list) {
    // An unknown entry (an older or newer settings file) is dropped alone.
    const QStringList chosen =
        normalizedMetricList(list).split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (QAction* a : m_metricsButton->menu()->actions()) {
        const QSignalBlocker block(a);
        a->setChecked(chosen.contains(a->data().toString()));
    }
    QSettings().setValue(kMetricsKey, chosen.join(QLatin1Char(',')));
    updateMetricsButton();
}

QString EvalDashboard::metricList() const {
    QStringList ids;
    for (QAction* a : m_metricsButton->menu()->actions())
        if (a->isChecked()) ids << a->data().toString();
    return normalizedMetricList(ids.join(QLatin1Char(',')));
}

void EvalDashboard::updateMetricsButton() {
    QStringList names;
    for (QAction* a : m_metricsButton->menu()->actions())
        if (a->isChecked()) names << a->data().toString();
    m_metricsButton->setText(names.isEmpty() ? tr("Metrics: none")
                                             : tr("Metrics: %1").arg(names.size()));
    // Room for the menu arrow Fusion draws in the corner, clear of the text.
    m_metricsButton->setMinimumWidth(0);
    m_metricsButton->setMinimumWidth(m_metricsButton->sizeHint().width() + 10);
    m_metricsButton->setToolTip(
        tr("<p>Faithfulness metrics a new evaluation computes besides localisation: %1.</p>"
           "<p>They cost extra forward passes: deletion and insertion steps + 1 per map and "
           "image (51 by default), ROAD two per percentile, the confidence drop one; the "
           "sanity check one explanation per cascade step. With any, the baseline maps "
           "(random, center, Sobel) are scored too.</p>")
            .arg(names.isEmpty() ? tr("none") : names.join(QStringLiteral(", "))));
}

QString EvalDashboard::faithMessage() const {
    return m_faithBody->isHidden() ? m_faithMessage->text() : QString();
}

void EvalDashboard::setSanityShowsSsim(bool ssim) {
    m_sanityMeasure->setCurrentIndex(ssim ? 1 : 0);
}

void EvalDashboard::showBestAndWorst(Method method, int tap, FaithMetric metric) {
    if (!m_results) return;
    std::vector<int> rows = rankImagesBy(m_results->records, method, tap, metric);
    QString who = QString::fromStdString(methodName(method));
    for (const auto& m : m_results->summary.methods)
        if (m.method == method && m.tap == tap && !methodIsBaseline(method))
            who = tr("%1 @ %2").arg(who, QString::fromStdString(m.tapName));
    if (methodIsBaseline(method)) who = tr("%1 (baseline)").arg(who);
    const QString by = faithMetricName(metric);
    QString description;
    if (rows.size() > 2 * kBestWorst) {
        // The best ones and the worst ones, best first throughout.
        rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(kBestWorst),
                   rows.end() - static_cast<std::ptrdiff_t>(kBestWorst));
        description = tr("%1: best %2 and worst %2 by %3").arg(who).arg(kBestWorst).arg(by);
    } else {
        description = tr("%1: all %2 images, best first by %3").arg(who).arg(rows.size()).arg(by);
    }
    Q_EMIT showImages(rows, description);
}

void EvalDashboard::showEvaluation(std::shared_ptr<const SavedEvaluation> evaluation) {
    ++m_generation;  // a read still under way is older
    setResults(std::move(evaluation), m_context);
}

void EvalDashboard::setWorkspace(Workspace* workspace) {
    if (m_workspace) disconnect(m_workspace, nullptr, this, nullptr);
    m_workspace = workspace;
    if (!m_workspace) {
        setContext(nullptr, nullptr, SplitKind::Test, 0);
        return;
    }
    auto follow = [this] {
        setContext(m_workspace->model(), m_workspace->dataset(), m_workspace->split(),
                   m_workspace->context());
    };
    connect(m_workspace, &Workspace::contextChanged, this, follow);
    connect(m_workspace, &Workspace::thresholdChanged, this, [this] { updateSettingsLine(); });
    connect(m_workspace, &QObject::destroyed, this, [this] { m_workspace = nullptr; });
    follow();
}

void EvalDashboard::setContext(std::shared_ptr<ModelSession> model,
                               std::shared_ptr<const Dataset> dataset, SplitKind split,
                               std::uint64_t context) {
    // A running evaluation belongs to the old context: cancel it and move on. The GUI thread never
    // waits for it; onRunFinished() sees it is stale and drops what it made.
    ++m_generation;
    m_context = context;
    if (m_run) {
        const std::shared_ptr<Run> run = std::exchange(m_run, nullptr);
        run->cancel.cancel();
        m_windingDown.push_back(run);
        m_noticeFor = run;
        m_notice->setText(
            tr("The evaluation of %1 on the %2 split was stopped by the switch. Its finished "
               "images are kept in %3; evaluating that model and split again resumes them.")
                .arg(run->modelName, splitName(run->split), pathText(run->dir / kPartialFile)));
        m_notice->show();
    } else {
        m_noticeFor.reset();
        m_notice->clear();
        m_notice->hide();
    }
    m_stop->setEnabled(false);
    m_progress->reset();
    m_model = std::move(model);
    m_dataset = std::move(dataset);
    m_split = split;
    updateSplitCombo();
    m_results.reset();
    m_tapNames.clear();
    m_lastTap = -1;
    if (m_model) {
        for (const auto& t : m_model->info().taps) m_tapNames.push_back(t.name);
        m_lastTap = m_model->info().lastBlockTap;
    }
    // A TorchScript model's default layer is its CAM layer (else its last map), not a "last
    // block"; its blocks are its containers' modules.
    if (m_model && m_model->info().torchScript && m_lastTap >= 0) {
        m_layers->setItemText(
            0, tr("Default layer (%1)")
                   .arg(QString::fromStdString(m_tapNames[static_cast<std::size_t>(m_lastTap)])));
        m_layers->setItemText(1, tr("Every block (%n layer(s), per-layer chart)", nullptr,
                                    static_cast<int>(m_model->info().blockTaps().size())));
    } else {
        m_layers->setItemText(0, tr("Last block"));
        m_layers->setItemText(1, tr("Every block (per-layer chart)"));
    }
    const bool ready = m_model && m_dataset;
    m_status->setText(
        ready ? tr("No saved evaluation of %1 on the %2 split yet: press Evaluate.")
                    .arg(QString::fromStdString(m_model->info().source.filename().string()),
                         splitName(m_split))
              : tr("Open a dataset and a model to evaluate."));
    if (ready) tryReload();
    rebuild();
    updateSettingsLine();
    updateButtons();
}

void EvalDashboard::updateButtons() {
    const bool ready = m_model && m_dataset;
    // A stopped run still writing into this context's folder would race a new one there.
    const auto dir = resultsDir();
    const bool folderBusy =
        std::any_of(m_windingDown.begin(), m_windingDown.end(),
                    [&](const std::shared_ptr<Run>& r) { return !dir.empty() && r->dir == dir; });
    m_evaluate->setEnabled(ready && !m_run && !folderBusy);
    m_evaluate->setToolTip(folderBusy ? tr("The stopped evaluation is still finishing its "
                                           "current batch; Evaluate is available in a moment.")
                                      : QString());
    m_stop->setEnabled(m_run != nullptr);
}

void EvalDashboard::tryReload() {
    const auto dir = resultsDir();
    const bool saved = std::filesystem::exists(dir / kRecordsFile);
    const bool partial = std::filesystem::exists(dir / kPartialFile);
    if (!saved && !partial) return;
    // A whole split's records are tens of megabytes of JSON: read them off the GUI thread. The
    // generation number drops a load that finishes after the context changed again.
    if (saved) m_status->setText(tr("Reading the saved evaluation in %1…").arg(pathText(dir)));
    auto loaded = std::make_shared<LoadedEvaluation>();
    loaded->generation = m_generation;
    loaded->context = m_context;
    loaded->dir = dir;
    auto* watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcher<void>::finished, this, [this, watcher, loaded] {
        watcher->deleteLater();
        onLoaded(loaded);
    });
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [loaded, tapNames = m_tapNames] {
        lowerCurrentThreadPriority();
        const auto& dir = loaded->dir;
        if (std::filesystem::exists(dir / kRecordsFile)) {
            try {
                loaded->evaluation =
                    std::make_shared<const SavedEvaluation>(loadEvaluation(dir, tapNames));
            } catch (const std::exception& e) {
                loaded->error = QString::fromStdString(e.what());
            }
        }
        // The partial file: its settings line, then one record per finished image (a last line
        // cut short by an interruption does not count).
        std::ifstream in(dir / kPartialFile, std::ios::binary);
        std::string line;
        if (in && std::getline(in, line)) {
            const QJsonObject key =
                QJsonDocument::fromJson(QByteArray::fromStdString(line)).object();
            if (!key.isEmpty()) {
                loaded->partial = true;
                loaded->partialTau = key.value(QLatin1String("tau")).toDouble();
                loaded->partialLimit =
                    static_cast<std::size_t>(key.value(QLatin1String("limit")).toDouble());
                const auto images =
                    static_cast<std::size_t>(key.value(QLatin1String("images")).toDouble());
                loaded->partialTotal =
                    loaded->partialLimit ? std::min(loaded->partialLimit, images) : images;
                for (const auto& t : key.value(QLatin1String("taps")).toArray())
                    loaded->partialTaps.push_back(t.toInt());
                if (key.value(QLatin1String("protocol")).toString() == QLatin1String("wsol"))
                    loaded->partialProtocol = EvalProtocol::Wsol;
                loaded->partialWsolStep = key.value(QLatin1String("wsol_step")).toDouble(0.01);
                loaded->partialMetrics = key.value(QLatin1String("metrics"))
                                             .toObject()
                                             .value(QLatin1String("metrics"))
                                             .toString();
                std::size_t n = 0;
                while (std::getline(in, line))
                    if (!in.eof() && !line.empty()) ++n;
                loaded->partialImages = n;
            }
        }
    }));
}

void EvalDashboard::onLoaded(const std::shared_ptr<LoadedEvaluation>& loaded) {
    if (loaded->generation != m_generation) return;  // the context moved on
    QString text;
    if (loaded->evaluation) {
        text = tr("Loaded the saved evaluation from %1 (%2 images).")
                   .arg(pathText(loaded->dir))
                   .arg(loaded->evaluation->records.size());
    } else if (!loaded->error.isEmpty()) {
        text = tr("The saved evaluation could not be read (%1); evaluate again to replace it.")
                   .arg(loaded->error);
    }
    if (loaded->partial && !m_run) {
        // Set the controls to the interrupted run's settings, so Evaluate resumes it.
        const std::vector<int> blocks = m_model ? m_model->info().blockTaps() : std::vector<int>{};
        const bool every = loaded->partialTaps.size() > 1 && loaded->partialTaps == blocks;
        m_layers->setCurrentIndex(every ? 1 : 0);
        m_limit->setValue(static_cast<int>(loaded->partialLimit));
        setProtocol(loaded->partialProtocol, loaded->partialWsolStep);
        setMetricList(loaded->partialMetrics);
        QString partial =
            tr("An interrupted evaluation (%1 of %2 images, at τ %3, %4) is kept in %5. Evaluate "
               "resumes it.")
                .arg(loaded->partialImages)
                .arg(loaded->partialTotal)
                .arg(loaded->partialTau, 0, 'f', 2)
                .arg(every ? tr("every block") : tr("last block"))
                .arg(pathText(loaded->dir / kPartialFile));
        if (m_workspace && !sameTau(loaded->partialTau, m_workspace->threshold()))
            partial += QLatin1Char(' ') +
                       tr("(It resumes at τ %1 only: the explorer now uses τ %2, at which "
                          "Evaluate starts afresh.)")
                           .arg(loaded->partialTau, 0, 'f', 2)
                           .arg(m_workspace->threshold(), 0, 'f', 2);
        text = text.isEmpty() ? partial : text + QLatin1Char(' ') + partial;
    }
    // While a run of this context goes on, the status is about that run.
    if (!text.isEmpty() && !m_run) m_status->setText(text);
    if (loaded->evaluation) setResults(loaded->evaluation, loaded->context);
}

void EvalDashboard::setResults(std::shared_ptr<const SavedEvaluation> results,
                               std::uint64_t context) {
    m_results = std::move(results);
    // Without a model (tests, screenshots), CAM's layer in the results is the last block.
    if (!m_model && m_results)
        for (const auto& m : m_results->summary.methods)
            if (m.method == Method::Cam) m_lastTap = m.tap;
    rebuild();
    updateSettingsLine();
    if (m_workspace) m_workspace->setEvaluation(m_results, context);
    Q_EMIT resultsChanged();
}

void EvalDashboard::startEvaluation(std::size_t limit) {
    if (!m_model || !m_dataset || m_run || !m_evaluate->isEnabled()) return;
    const SplitData& split = m_dataset->split(m_split);
    auto run = std::make_shared<Run>();
    run->generation = m_generation;
    run->context = m_context;
    run->dir = resultsDir();
    run->modelName = QString::fromStdString(m_model->info().source.filename().string());
    run->modelSource = m_model->info().source.string();
    run->split = m_split;
    run->options = newRunOptions();
    run->options.taps = m_layers->currentData().toInt() == 1 ? m_model->info().blockTaps()
                                                             : std::vector<int>{m_lastTap};
    // CAM only where the model has it (the run would fail on the first batch otherwise).
    if (!m_model->info().camAvailable) {
        auto& methods = run->options.methods;
        methods.erase(std::remove(methods.begin(), methods.end(), Method::Cam), methods.end());
    }
    // The model's classes are matched to the dataset's by name (a 1000-class ImageNet model
    // answers Stanford Dogs' breeds), else by count and order.
    run->options.datasetClassNames = m_dataset->breedNames;
    run->options.limit = limit;
    m_run = run;
    m_noticeFor.reset();
    m_notice->hide();
    updateButtons();
    m_progress->setRange(
        0, static_cast<int>(limit ? std::min(limit, split.samples.size()) : split.samples.size()));
    m_progress->setValue(0);
    m_status->setText(
        tr("Evaluating %1 on the %2 split at τ %3 with the %4 protocol in the "
           "background…")
            .arg(run->modelName, splitName(m_split))
            .arg(run->options.tau, 0, 'f', 2)
            .arg(run->options.protocol == EvalProtocol::Wsol ? tr("WSOL") : tr("CAM Explorer")));

    // The worker holds the run, the model and the dataset, and reports through its promise; it
    // never touches this object. The watcher is this object's, and goes with it.
    auto* watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcherBase::progressValueChanged, this, [this, run, watcher](int v) {
        if (run != m_run) return;  // stopped by a switch: its progress is not this context's
        if (watcher->progressMaximum() > 0) m_progress->setMaximum(watcher->progressMaximum());
        m_progress->setValue(v);
    });
    connect(watcher, &QFutureWatcherBase::finished, this, [this, run, watcher] {
        watcher->deleteLater();
        onRunFinished(run);
    });
    watcher->setFuture(QtConcurrent::run(
        backgroundPool(), [run, model = m_model, dataset = m_dataset](QPromise<void>& promise) {
            lowerCurrentThreadPriority();
            JobContext job;
            job.cancel = &run->cancel;
            job.progress = [&promise](const Progress& p) {
                if (p.total > 0) promise.setProgressRange(0, static_cast<int>(p.total));
                promise.setProgressValue(static_cast<int>(p.done));
            };
            try {
                run->result =
                    evaluateSplit(*model, dataset->split(run->split), run->options, run->dir, job);
            } catch (const Cancelled&) {
                // The progress is kept in eval_partial.jsonl; the next run resumes from it.
            } catch (const std::exception& e) {
                run->error = QString::fromStdString(e.what());
            }
        }));
}

void EvalDashboard::cancel() {
    if (!m_run) return;
    m_run->cancel.cancel();
    m_stop->setEnabled(false);
    m_status->setText(tr("Cancelling… finished images are kept and the next run resumes."));
}

void EvalDashboard::onRunFinished(const std::shared_ptr<Run>& run) {
    const QString where = pathText(run->dir);
    if (run != m_run) {
        // Stopped by a context switch: nothing of it is shown or stored here.
        m_windingDown.erase(std::remove(m_windingDown.begin(), m_windingDown.end(), run),
                            m_windingDown.end());
        if (m_noticeFor.lock() == run && run->result)
            m_notice->setText(tr("The evaluation of %1 on the %2 split finished just before the "
                                 "switch; its results are saved in %3.")
                                  .arg(run->modelName, splitName(run->split), where));
        updateButtons();
        // Back in the folder it wrote to: show what it left there.
        if (run->dir == resultsDir() && !m_results && !m_run) tryReload();
        Q_EMIT finished(true);
        return;
    }
    m_run.reset();
    updateButtons();
    if (!run->error.isEmpty()) {
        m_progress->reset();
        m_status->setText(tr("The evaluation failed: %1").arg(run->error));
        Q_EMIT errorOccurred(run->error);
        Q_EMIT finished(true);
        return;
    }
    if (!run->result) {
        m_status->setText(tr("Cancelled. The finished images are kept in %1; Evaluate resumes.")
                              .arg(pathText(run->dir / kPartialFile)));
        Q_EMIT finished(true);
        return;
    }
    m_progress->setValue(m_progress->maximum());
    // What was just written, without reading it back.
    auto done = std::make_shared<SavedEvaluation>();
    done->options = run->options;
    done->model = run->modelSource;
    done->records = std::move(run->result->records);
    done->summary = std::move(run->result->summary);
    QString text = tr("Evaluated %1 images at τ %2; saved in %3.")
                       .arg(done->records.size())
                       .arg(done->options.tau, 0, 'f', 2)
                       .arg(where);
    if (run->result->resumed)
        text += tr(" %1 of them were resumed from an interrupted run.").arg(run->result->resumed);
    if (!run->result->skipped.empty())
        text +=
            tr(" %n image(s) could not be decoded and are not included (listed in "
               "summary.json).",
               nullptr, static_cast<int>(run->result->skipped.size()));
    m_status->setText(text);
    // Newer than whatever a load still running would bring: drop it.
    ++m_generation;
    setResults(std::move(done), run->context);
    Q_EMIT finished(false);
}

QString EvalDashboard::evaluationSettings() const {
    if (!m_results) return {};
    const EvalOptions& o = m_results->options;
    QString text = tr("τ %1 · box: %2 · score: %3")
                       .arg(o.tau, 0, 'f', 2)
                       .arg(boxRuleText(o.mode), scoreText(o.score));
    if (o.protocol == EvalProtocol::Wsol || m_results->summary.protocol == EvalProtocol::Wsol)
        text += tr(" · protocol: %1").arg(protocolText(o));
    const bool curves = o.metrics.deletion || o.metrics.insertion;
    if (o.metrics.any())
        text +=
            curves
                ? tr(" · faithfulness: %1 (%2 steps)")
                      .arg(QString::fromStdString(metricListText(o.metrics)))
                      .arg(o.metrics.steps)
                : tr(" · faithfulness: %1").arg(QString::fromStdString(metricListText(o.metrics)));
    return text;
}

bool EvalDashboard::isStale() const {
    return m_results && m_workspace && !sameTau(m_results->options.tau, m_workspace->threshold());
}

QString EvalDashboard::staleWarning() const {
    if (!isStale()) return {};
    return tr("⚠ Evaluated at τ %1; the explorer now uses τ %2. These numbers are at τ %1: "
              "Evaluate again to update them.")
        .arg(m_results->options.tau, 0, 'f', 2)
        .arg(m_workspace->threshold(), 0, 'f', 2);
}

void EvalDashboard::updateSettingsLine() {
    const EvalOptions next = newRunOptions();
    if (m_results)
        m_settings->setText(tr("<b>Shown evaluation:</b> %1").arg(evaluationSettings()));
    else
        m_settings->setText(
            tr("A new evaluation runs at the explorer's τ %1 · box: %2 · "
               "score: %3 · protocol: %4")
                .arg(next.tau, 0, 'f', 2)
                .arg(boxRuleText(next.mode), scoreText(next.score), protocolText(next)) +
            (next.metrics.any() ? tr(" · faithfulness: %1")
                                      .arg(QString::fromStdString(metricListText(next.metrics)))
                                : QString()));
    if (m_model && !m_model->info().camAvailable)
        m_settings->setText(
            m_settings->text() + QStringLiteral("<br>") +
            tr("CAM is not available for this model (%1): evaluations score the other methods.")
                .arg(QString::fromStdString(m_model->info().camUnavailableReason).toHtmlEscaped()));
    const QString stale = staleWarning();
    m_stale->setText(stale);
    m_stale->setVisible(!stale.isEmpty());
}

std::vector<int> EvalDashboard::rowsInBin(int methodIndex, int bin) const {
    std::vector<int> rows;
    if (!m_results) return rows;
    const int tap = m_view->currentData().isValid() ? m_view->currentData().toInt() : m_lastTap;
    const auto shown = summariesAt(m_results->summary, tap, m_lastTap);
    if (methodIndex < 0 || methodIndex >= static_cast<int>(shown.size())) return rows;
    const MethodSummary* m = shown[static_cast<std::size_t>(methodIndex)];
    for (const auto& r : m_results->records)
        if (const MapScore* s = r.find(m->method, m->tap); s && r.hasBoxes)
            if (iouBin(s->iou) == bin) rows.push_back(static_cast<int>(r.index));
    return rows;
}

std::vector<int> EvalDashboard::rowsOfBreed(int label) const {
    std::vector<int> rows;
    if (!m_results) return rows;
    for (const auto& r : m_results->records)
        if (r.label == label) rows.push_back(static_cast<int>(r.index));
    return rows;
}

QString EvalDashboard::defaultChartFileName(ChartId id) const {
    static const char* const names[ChartCount] = {
        "histogram", "layers", "sweep", "iou-threshold", "deletion", "insertion", "road", "sanity"};
    QString name = QString::fromLatin1(names[id]);
    if (m_model)
        name += QLatin1Char('-') + QString::fromStdString(m_model->info().source.stem().string());
    name += QLatin1Char('-') + QString::fromLatin1(camx::splitName(m_split));
    return name + QStringLiteral(".png");
}

void EvalDashboard::rebuild() {
    // The layer list follows the results.
    {
        const QSignalBlocker block(m_view);
        const QVariant keep = m_view->currentData();
        m_view->clear();
        if (m_results) {
            std::vector<int> taps;
            for (const auto& m : m_results->summary.methods)
                if (m.method != Method::Cam && !methodIsBaseline(m.method) &&
                    std::find(taps.begin(), taps.end(), m.tap) == taps.end())
                    taps.push_back(m.tap);
            std::sort(taps.begin(), taps.end());
            for (int t : taps) {
                // The model's name for the layer, else the evaluation's (no model: tests).
                QString name = QString::number(t);
                if (t >= 0 && t < static_cast<int>(m_tapNames.size()))
                    name = QString::fromStdString(m_tapNames[static_cast<std::size_t>(t)]);
                else
                    for (const auto& m : m_results->summary.methods)
                        if (m.tap == t && !m.tapName.empty())
                            name = QString::fromStdString(m.tapName);
                m_view->addItem(name, t);
            }
            const int i = m_view->findData(keep.isValid() ? keep : QVariant(m_lastTap));
            m_view->setCurrentIndex(i >= 0 ? i : m_view->count() - 1);
        }
        m_view->setEnabled(m_view->count() > 1);
    }
    for (auto* v : m_charts) {
        QChart* old = v->chart();
        v->setChart(new QChart);
        delete old;
    }
    m_breeds->clear();
    if (!m_results) {
        m_summary->clear();
        rebuildWsol({});
        rebuildFaith({});
        return;
    }
    const EvalSummary& s = m_results->summary;
    const int tap = m_view->currentData().isValid() ? m_view->currentData().toInt() : m_lastTap;
    const auto shown = summariesAt(s, tap, m_lastTap);
    const QList<QChart*> charts = {makeIouHistogramChart(m_results->records, shown),
                                   makeLayerChart(s, m_tapNames), makeSweepChart(s, shown),
                                   makeIouThresholdChart(shown)};
    for (int i = 0; i < Deletion; ++i) {
        QChart* old = m_charts[i]->chart();
        m_charts[i]->setChart(charts[i]);
        delete old;
    }
    // Clicking a histogram bar shows its images.
    for (auto* series : charts[Histogram]->series())
        if (auto* bars = qobject_cast<QBarSeries*>(series))
            connect(bars, &QBarSeries::clicked, this, [this, bars](int bin, QBarSet* set) {
                const int methodIndex = static_cast<int>(bars->barSets().indexOf(set));
                Q_EMIT showImages(rowsInBin(methodIndex, bin),
                                  tr("%1 IoU %2–%3")
                                      .arg(set->label())
                                      .arg(bin / double(kIouBins), 0, 'f', 1)
                                      .arg((bin + 1) / double(kIouBins), 0, 'f', 1));
            });

    QString html = s.classified ? tr("<b>%1 images</b> · top-1 %2 · top-5 %3 · boxes at τ %4")
                                      .arg(s.images)
                                      .arg(s.top1, 0, 'f', 3)
                                      .arg(s.top5, 0, 'f', 3)
                                      .arg(m_results->options.tau, 0, 'f', 2)
                                : tr("<b>%1 images</b> · boxes at τ %2 · no classification "
                                     "scores (%3)")
                                      .arg(s.images)
                                      .arg(m_results->options.tau, 0, 'f', 2)
                                      .arg(QString::fromStdString(s.classMatch).toHtmlEscaped());
    html += QStringLiteral("<table cellspacing=6>");
    html +=
        tr("<tr><th align=left>method</th><th>layer</th><th>mean IoU</th><th>loc@0.5</th>"
           "<th>top-1 loc</th><th>MaxBoxAcc</th><th>V2</th></tr>");
    std::size_t boxed = 0;
    for (const MethodSummary* m : shown) {
        const QString head =
            QStringLiteral("<tr><td style=\"white-space:nowrap\">%1</td><td>%2</td>")
                .arg(QString::fromStdString(methodName(m->method)),
                     QString::fromStdString(m->tapName));
        boxed = std::max(boxed, m->boxedImages);
        // Zeros without boxes would read as a method that never finds the object.
        if (withoutBoxes(*m))
            html +=
                head +
                QStringLiteral("<td colspan=5 align=center><i>%1</i></td></tr>").arg(noBoxesText());
        else
            html +=
                head +
                QStringLiteral("<td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td></tr>")
                    .arg(QString::number(m->meanIou, 'f', 3),
                         QString::number(m->locAccuracy, 'f', 3),
                         QString::number(m->top1Loc, 'f', 3),
                         // Under the WSOL protocol these are its own, in the table below.
                         m->wsol ? QStringLiteral("—") : QString::number(m->maxBoxAcc, 'f', 3),
                         m->wsol ? QStringLiteral("—") : QString::number(m->maxBoxAccV2, 'f', 3));
    }
    html += QStringLiteral("</table>");
    if (std::any_of(shown.begin(), shown.end(), [](const MethodSummary* m) { return m->wsol; }))
        html += tr("Mean IoU and loc@0.5 are at τ %1; MaxBoxAcc and V2: the WSOL protocol's, "
                   "below.<br>")
                    .arg(m_results->options.tau, 0, 'f', 2);
    const std::size_t evaluated = shown.empty() ? s.images : shown.front()->images;
    if (boxed > 0 && boxed < evaluated)
        html += tr("IoU figures count the %1 images with ground-truth boxes; %2 have none.")
                    .arg(boxed)
                    .arg(evaluated - boxed);
    m_summary->setText(html);
    rebuildWsol(shown);
    rebuildFaith(shown);

    // Per-class table: images, then mean IoU and localisation accuracy per method. Two-line
    // headers keep every column in view at the dashboard's default size.
    QStringList headers{tr("Class"), tr("Images")};
    QStringList tips{tr("Class"), tr("Evaluated images of the class")};
    for (const MethodSummary* m : shown) {
        const QString n = QString::fromStdString(methodName(m->method));
        headers << tr("%1\nmean IoU").arg(n) << tr("%1\nloc@0.5").arg(n);
        tips
            << tr("%1: mean IoU of the boxes at τ %2").arg(n).arg(m_results->options.tau, 0, 'f', 2)
            << tr("%1: share of the class's images whose box has IoU ≥ 0.5").arg(n);
    }
    m_breeds->setHorizontalHeaderLabels(headers);
    for (int c = 0; c < tips.size(); ++c)
        m_breeds->setHeaderData(c, Qt::Horizontal, tips[c], Qt::ToolTipRole);
    std::map<int, int> counts, boxedCounts;
    for (const auto& r : m_results->records) {
        ++counts[r.label];
        if (r.hasBoxes) ++boxedCounts[r.label];
    }
    // Labels are the dataset's (the model's classes may be other ones, e.g. ImageNet's).
    static const std::vector<std::string> kNoNames;
    const auto& names = m_dataset && !m_dataset->breedNames.empty() ? m_dataset->breedNames
                        : m_model                                   ? m_model->info().classNames
                                                                    : kNoNames;
    for (const auto& [label, n] : counts) {
        QList<QStandardItem*> row;
        auto* name =
            new QStandardItem(label >= 0 && label < static_cast<int>(names.size())
                                  ? QString::fromStdString(names[static_cast<std::size_t>(label)])
                                  : QString::number(label));
        name->setData(name->text(), kSortRole);
        name->setData(label, kLabelRole);
        name->setToolTip(name->text());
        name->setEditable(false);
        row << name << numberItem(n, 0);
        for (const MethodSummary* m : shown) {
            const auto it = m->perBreed.find(label);
            if (boxedCounts[label] == 0) {
                // No image of the class has a box: no IoU, and it sorts below every number.
                for (int k = 0; k < 2; ++k) {
                    auto* none = numberItem(-1.0);
                    none->setText(QStringLiteral("—"));
                    none->setToolTip(noBoxesText());
                    row << none;
                }
                continue;
            }
            row << numberItem(it == m->perBreed.end() ? 0.0 : it->second.first)
                << numberItem(it == m->perBreed.end() ? 0.0 : it->second.second);
        }
        m_breeds->appendRow(row);
    }
    // Number columns as wide as their widest header line or cell, no wider (the style's
    // contents size also reserves room for a sort arrow, which Fusion draws above the text);
    // the class takes the rest and elides, with the full name in its tooltip.
    QHeaderView* header = m_table->horizontalHeader();
    const QFontMetrics headerFont(header->font()), cellFont(m_table->font());
    for (int c = 1; c < m_breeds->columnCount(); ++c) {
        int w = 0;
        for (const QString& line : headers[c].split(QLatin1Char('\n')))
            w = std::max(w, headerFont.horizontalAdvance(line));
        for (int r = 0; r < m_breeds->rowCount(); ++r)
            w = std::max(w, cellFont.horizontalAdvance(m_breeds->item(r, c)->text()));
        header->setSectionResizeMode(c, QHeaderView::Interactive);
        header->resizeSection(c,
                              w + 2 * m_table->style()->pixelMetric(QStyle::PM_HeaderMargin) + 8);
    }
    header->setSectionResizeMode(0, QHeaderView::Stretch);
}

void EvalDashboard::rebuildFaith(const std::vector<const MethodSummary*>& shown) {
    m_faith->clear();
    m_faithColumns.clear();
    // The methods first, then the baseline maps they should beat.
    std::vector<const MethodSummary*> methods;
    for (const MethodSummary* m : shown)
        if (m->metrics && !methodIsBaseline(m->method)) methods.push_back(m);
    for (const MethodSummary* m : shown)
        if (m->metrics && methodIsBaseline(m->method)) methods.push_back(m);
    if (methods.empty()) {
        const QString what =
            tr("Evaluate with faithfulness metrics to see how faithful each method's maps are to "
               "the model: deletion and insertion curves, ROAD, the confidence drop, the "
               "pointing games and the sanity check, beside the random, center and Sobel "
               "baselines. Choose them under Metrics… next to Evaluate.");
        m_faithMessage->setText(m_results ? tr("This evaluation has no faithfulness metrics.") +
                                                QLatin1Char('\n') + what
                                          : what);
        m_faithMessage->show();
        m_faithBody->hide();
        return;
    }
    m_faithMessage->clear();
    m_faithMessage->hide();
    m_faithBody->show();

    for (FaithMetric f : faithTableMetrics())
        if (std::any_of(methods.begin(), methods.end(), [f](const MethodSummary* m) {
                return summaryMetric(*m->metrics, f).has_value();
            }))
            m_faithColumns.push_back(f);
    QStringList headers{tr("Method"), tr("Images")};
    QStringList tips{tr("The method at the shown layer; baselines (italic) are maps that do not "
                        "look at the model: a method should beat them"),
                     tr("Images the metrics were computed on")};
    for (FaithMetric f : m_faithColumns) {
        headers << faithMetricHeader(f);
        tips << faithMetricTip(f);
    }
    m_faith->setHorizontalHeaderLabels(headers);
    for (int c = 0; c < tips.size(); ++c)
        m_faith->setHeaderData(c, Qt::Horizontal, tips[c], Qt::ToolTipRole);
    // The best method's value in each column in bold (baselines do not compete).
    std::vector<std::optional<double>> best(m_faithColumns.size());
    for (std::size_t c = 0; c < m_faithColumns.size(); ++c)
        for (const MethodSummary* m : methods) {
            if (methodIsBaseline(m->method)) continue;
            const auto v = summaryMetric(*m->metrics, m_faithColumns[c]);
            if (v && (!best[c] ||
                      (faithLowerIsBetter(m_faithColumns[c]) ? *v < *best[c] : *v > *best[c])))
                best[c] = v;
        }
    for (const MethodSummary* m : methods) {
        const bool baseline = methodIsBaseline(m->method);
        QList<QStandardItem*> row;
        auto* name = new QStandardItem(
            baseline ? faithMethodLabel(*m)
                     : tr("%1 @ %2").arg(faithMethodLabel(*m), QString::fromStdString(m->tapName)));
        // Methods above baselines whatever the sort: the method's own name sorts.
        name->setData(QStringLiteral("%1%2").arg(baseline ? 1 : 0).arg(name->text()), kSortRole);
        name->setData(static_cast<int>(m->method), kLabelRole);
        name->setData(m->tap, kTapRole);
        name->setToolTip(baseline ? tr("%1: a baseline map, independent of the model")
                                        .arg(QString::fromStdString(methodName(m->method)))
                                  : name->text());
        name->setEditable(false);
        if (baseline) {
            QFont f = name->font();
            f.setItalic(true);
            name->setFont(f);
            name->setForeground(QBrush(QColor(110, 110, 110)));
        }
        row << name << numberItem(static_cast<double>(m->metrics->images), 0);
        for (std::size_t c = 0; c < m_faithColumns.size(); ++c) {
            const FaithMetric f = m_faithColumns[c];
            const auto v = summaryMetric(*m->metrics, f);
            QStandardItem* item;
            if (v) {
                item = numberItem(*v, faithDecimals(f));
                if (!baseline && best[c] && *v == *best[c]) {
                    QFont bold = item->font();
                    bold.setBold(true);
                    item->setFont(bold);
                }
                if (f == FaithMetric::PointingGame || f == FaithMetric::EnergyPointingGame)
                    item->setToolTip(tr("over %1 with ground truth")
                                         .arg(imageCount(m->metrics->pointingImages)));
            } else {
                item = numberItem(-1e300);
                item->setText(QStringLiteral("—"));
                item->setToolTip(tr("Not measured for this method"));
            }
            if (baseline) {
                QFont italic = item->font();
                italic.setItalic(true);
                item->setFont(italic);
                item->setForeground(QBrush(QColor(110, 110, 110)));
            }
            row << item;
        }
        m_faith->appendRow(row);
    }
    m_faithTable->sortByColumn(0, Qt::AscendingOrder);
    QHeaderView* header = m_faithTable->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(0, QHeaderView::Stretch);
    // Every row in view where there is room, at least four (the splitter gives more).
    const int rowHeight = m_faithTable->verticalHeader()->defaultSectionSize();
    const int frame = 2 * m_faithTable->frameWidth() + header->sizeHint().height() + 2;
    const int full = frame + rowHeight * m_faith->rowCount();
    m_faithTable->setMinimumHeight(frame + rowHeight * std::min(4, m_faith->rowCount()));
    m_faithTable->setMaximumHeight(full);
    const int total = std::max(m_faithSplit->height(), full + 400);
    m_faithSplit->setSizes({full, total - full});

    const MetricOptions& o = m_results->options.metrics;
    const QList<QChart*> charts = {
        makeDeletionChart(methods, false), makeDeletionChart(methods, true),
        makeRoadChart(methods, o.roadPercentiles),
        makeSanityChart(methods, o.sanitySteps, m_sanityMeasure->currentIndex() == 1)};
    for (int i = 0; i < charts.size(); ++i) {
        QChart* old = m_charts[Deletion + i]->chart();
        m_charts[Deletion + i]->setChart(charts[i]);
        delete old;
        // A click on a method's curve (or its area) shows its best and worst images.
        for (QAbstractSeries* series : charts[i]->series()) {
            const QVariant method = series->property("camxMethod");
            if (!method.isValid()) continue;
            const auto m = static_cast<Method>(method.toInt());
            const int tap = series->property("camxTap").toInt();
            const auto metric = static_cast<FaithMetric>(series->property("camxMetric").toInt());
            auto show = [this, m, tap, metric] { showBestAndWorst(m, tap, metric); };
            if (auto* xy = qobject_cast<QXYSeries*>(series))
                connect(xy, &QXYSeries::clicked, this, show);
            else if (auto* area = qobject_cast<QAreaSeries*>(series))
                connect(area, &QAreaSeries::clicked, this, show);
        }
    }
}

void EvalDashboard::rebuildWsol(const std::vector<const MethodSummary*>& shown) {
    std::vector<const MethodSummary*> wsol;
    for (const MethodSummary* m : shown)
        if (m->wsol) wsol.push_back(m);
    const PublishedFigure* published = m_dataset ? publishedFor(m_dataset->benchmark) : nullptr;
    if (!m_results || (wsol.empty() && !published)) {
        m_wsolFigures->clear();
        m_published->clear();
        m_wsolBox->hide();
        return;
    }
    m_wsolBox->show();
    if (wsol.empty()) {
        // A benchmark evaluated the explorer's way: its numbers are not the published ones'.
        m_wsolFigures->setText(
            tr("<b>WSOL protocol</b><br>This is wsolevaluation's %1 benchmark. Its published "
               "figures are measured with the WSOL protocol: choose it above and evaluate to "
               "compare.")
                .arg(QString::fromLatin1(published->dataset)));
        m_published->clear();
        m_published->hide();
        return;
    }
    // The published metric's column in bold: the one to compare.
    const bool boldV2 = published && QLatin1String(published->metric) == "MaxBoxAccV2";
    const bool boldPxap = published && QLatin1String(published->metric) == "PxAP";
    auto pct = [](double v, bool bold) {
        const QString t = QString::number(v, 'f', 1);
        return bold ? QStringLiteral("<b>%1</b>").arg(t) : t;
    };
    const QString dash = QStringLiteral("—");
    const MethodSummary::Wsol& first = *wsol.front()->wsol;
    std::vector<int> ious = first.iouThresholds;
    if (ious.empty()) ious = {30, 50, 70};
    QString html = tr("<b>WSOL protocol</b> · wsolevaluation's metrics in %, threshold step %1")
                       .arg(m_results->options.wsolStep, 0, 'g', 3);
    html += QStringLiteral("<table cellspacing=4><tr><th align=left>%1</th>").arg(tr("method"));
    for (int iou : ious) html += QStringLiteral("<th>%1</th>").arg(tr("V2@%1").arg(iou));
    html += QStringLiteral("<th>%1</th><th>%2</th><th>%3</th></tr>")
                .arg(boldV2 ? tr("<b>MaxBoxAccV2</b>") : tr("MaxBoxAccV2"), tr("MaxBoxAcc"),
                     boldPxap ? tr("<b>PxAP</b>") : tr("PxAP"));
    bool anyWithoutMasks = false;
    std::size_t masked = 0;
    for (const MethodSummary* m : wsol) {
        const MethodSummary::Wsol& w = *m->wsol;
        const bool boxes = !withoutBoxes(*m);
        html += QStringLiteral("<tr><td style=\"white-space:nowrap\">%1</td>")
                    .arg(QString::fromStdString(methodName(m->method)));
        for (std::size_t i = 0; i < ious.size(); ++i)
            html += QStringLiteral("<td align=right>%1</td>")
                        .arg(boxes && i < w.maxBoxAccV2At.size() ? pct(w.maxBoxAccV2At[i], false)
                                                                 : dash);
        html += QStringLiteral(
                    "<td align=right>%1</td><td align=right>%2</td>"
                    "<td align=right>%3</td></tr>")
                    .arg(boxes ? pct(w.maxBoxAccV2, boldV2) : dash,
                         boxes ? pct(w.maxBoxAcc, false) : dash,
                         w.pxap ? pct(*w.pxap, boldPxap) : dash);
        anyWithoutMasks = anyWithoutMasks || !w.pxap;
        masked = std::max(masked, w.maskedImages);
    }
    html += QStringLiteral("</table>");
    QStringList notes;
    notes << tr(
        "MaxBoxAccV2: the mean over IoU 30, 50 and 70 of the best box accuracy over "
        "thresholds (every contour); MaxBoxAcc: IoU 50, largest contour.");
    if (masked) notes << tr("PxAP over %1 with masks.").arg(imageCount(masked));
    if (anyWithoutMasks) notes << tr("PxAP: — where the split has no masks.");
    if (std::any_of(wsol.begin(), wsol.end(),
                    [](const MethodSummary* m) { return withoutBoxes(*m); }))
        notes << tr("Box figures: — without ground-truth boxes.");
    html += QStringLiteral("<small>%1</small>").arg(notes.join(QLatin1Char(' ')));
    m_wsolFigures->setText(html);

    if (!published) {
        m_published->clear();
        m_published->hide();
        return;
    }
    m_published->setText(
        tr("<b>Published figures</b><br><small>Choe et al., CVPR 2020<br>CAM, ResNet-50, test "
           "split</small><table cellspacing=3><tr><td>%1</td></tr><tr><td>%2</td>"
           "<td align=right><b>%3</b></td></tr></table><small>Not computed here.</small>")
            .arg(QString::fromLatin1(published->dataset), QString::fromLatin1(published->metric))
            .arg(published->value, 0, 'f', 1));
    m_published->show();
}

void EvalDashboard::saveChartAs(int id) {
    QSettings settings;
    const QString dir = settings.value("paths/lastChartDir").toString();
    const QString name = defaultChartFileName(static_cast<ChartId>(id));
    const QString f = QFileDialog::getSaveFileName(this, tr("Save chart"),
                                                   dir.isEmpty() ? name : QDir(dir).filePath(name),
                                                   tr("PNG image (*.png);;SVG drawing (*.svg)"));
    if (f.isEmpty()) return;
    QString error;
    if (!saveChart(m_charts[id], f, 0, &error))
        QMessageBox::warning(this, tr("Cannot save the chart"), error);
    else
        settings.setValue("paths/lastChartDir", QFileInfo(f).absolutePath());
}

}  // namespace camx::ui
