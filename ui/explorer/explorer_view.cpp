#include "explorer/explorer_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSignalBlocker>
#include <QSlider>
#include <QVBoxLayout>

#include "explorer/heatmap_panel.h"

namespace camx::ui {

namespace {
QSlider* slider(int lo, int hi, int value, const QString& name) {
    auto* s = new QSlider(Qt::Horizontal);
    s->setRange(lo, hi);
    s->setValue(value);
    s->setObjectName(name);
    return s;
}
}  // namespace

ExplorerView::ExplorerView(QWidget* parent) : QWidget(parent) {
    m_layer = slider(0, 0, 0, QStringLiteral("layerSlider"));
    m_layer->setTickPosition(QSlider::TicksBelow);
    m_layer->setPageStep(1);
    m_layerLabel = new QLabel;
    m_layerLabel->setMinimumWidth(210);
    m_threshold = slider(0, 100, 20, QStringLiteral("thresholdSlider"));
    m_thresholdLabel = new QLabel;
    m_blend = slider(0, 100, 50, QStringLiteral("blendSlider"));
    m_colormap = new QComboBox;
    m_colormap->setObjectName(QStringLiteral("colormapCombo"));
    for (Colormap c : allColormaps())
        m_colormap->addItem(QString::fromStdString(colormapName(c)), static_cast<int>(c));
    m_class = new QComboBox;
    m_class->setObjectName(QStringLiteral("classCombo"));
    m_class->setMinimumContentsLength(22);
    m_score = new QComboBox;
    m_score->setObjectName(QStringLiteral("scoreCombo"));
    m_score->addItem(tr("Logit (paper)"), static_cast<int>(ScoreKind::Logit));
    m_score->addItem(tr("Probability (course)"), static_cast<int>(ScoreKind::Probability));
    m_boxMode = new QComboBox;
    m_boxMode->setObjectName(QStringLiteral("boxModeCombo"));
    m_boxMode->addItem(tr("Largest component (CAM paper)"), static_cast<int>(BoxMode::Largest));
    m_boxMode->addItem(tr("Best of all components (WSOL)"), static_cast<int>(BoxMode::BestOfAll));
    m_boxMode->addItem(tr("First contour (course)"), static_cast<int>(BoxMode::CourseContour));
    m_third = new QCheckBox(tr("Third panel"));
    m_third->setObjectName(QStringLiteral("thirdPanel"));

    auto* controls = new QGridLayout;
    controls->addWidget(new QLabel(tr("&Layer")), 0, 0);
    static_cast<QLabel*>(controls->itemAtPosition(0, 0)->widget())->setBuddy(m_layer);
    controls->addWidget(m_layer, 0, 1);
    controls->addWidget(m_layerLabel, 0, 2);
    auto* tl = new QLabel(tr("&Threshold"));
    tl->setBuddy(m_threshold);
    controls->addWidget(tl, 1, 0);
    controls->addWidget(m_threshold, 1, 1);
    controls->addWidget(m_thresholdLabel, 1, 2);
    auto* bl = new QLabel(tr("&Blend"));
    bl->setBuddy(m_blend);
    controls->addWidget(bl, 2, 0);
    controls->addWidget(m_blend, 2, 1);
    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Colours")));
    row->addWidget(m_colormap);
    controls->addLayout(row, 2, 2);
    auto* right = new QFormLayout;
    right->addRow(tr("&Class"), m_class);
    right->addRow(tr("&Score"), m_score);
    right->addRow(tr("Bo&x"), m_boxMode);
    auto* top = new QHBoxLayout;
    top->addLayout(controls, 3);
    top->addLayout(right, 2);

    auto* methodsRow = new QHBoxLayout;
    auto* panels = new QHBoxLayout;
    const Method defaults[3] = {Method::Cam, Method::GradCam, Method::GradCamPlusPlus};
    for (int i = 0; i < 3; ++i) {
        auto* combo = new QComboBox;
        combo->setObjectName(QStringLiteral("method%1").arg(i));
        for (Method m : allMethods())
            combo->addItem(QString::fromStdString(methodName(m)), static_cast<int>(m));
        combo->setCurrentIndex(combo->findData(static_cast<int>(defaults[i])));
        m_methods.push_back(combo);
        auto* col = new QVBoxLayout;
        col->addWidget(combo);
        auto* panel = new HeatmapPanel;
        panel->setObjectName(QStringLiteral("panel%1").arg(i));
        m_panels.push_back(panel);
        col->addWidget(panel, 1);
        auto* holder = new QWidget;
        holder->setLayout(col);
        col->setContentsMargins(0, 0, 0, 0);
        panels->addWidget(holder, 1);
        if (i == 2) holder->setVisible(false);
        connect(combo, &QComboBox::currentIndexChanged, this, [this] {
            m_scoreCamAsked.clear();  // picked by hand: ask again even if asked before
            requestMissingScoreCam();
            refreshPanels();
        });
    }
    methodsRow->addWidget(m_third);
    methodsRow->addStretch(1);
    m_top5 = new QLabel;
    m_top5->setTextFormat(Qt::RichText);
    m_top5->setObjectName(QStringLiteral("top5"));
    methodsRow->addWidget(m_top5);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(methodsRow);
    layout->addLayout(panels, 1);

    connect(m_third, &QCheckBox::toggled, this, [this](bool on) {
        m_panels[2]->parentWidget()->setVisible(on);
        refreshPanels();
    });
    connect(m_layer, &QSlider::valueChanged, this, [this] {
        updateLayerLabel();
        m_scoreCamAsked.clear();
        requestMissingScoreCam();
        refreshPanels();
    });
    connect(m_threshold, &QSlider::valueChanged, this, [this] {
        m_thresholdLabel->setText(tr("τ = %1 of max").arg(threshold(), 0, 'f', 2));
        for (auto* p : m_panels) p->setThreshold(threshold());
        Q_EMIT iouChanged();
    });
    connect(m_blend, &QSlider::valueChanged, this, [this](int v) {
        for (auto* p : m_panels) p->setBlend(v / 100.f);
    });
    connect(m_colormap, &QComboBox::currentIndexChanged, this, [this] {
        for (auto* p : m_panels)
            p->setColormap(static_cast<Colormap>(m_colormap->currentData().toInt()));
    });
    connect(m_boxMode, &QComboBox::currentIndexChanged, this, [this] {
        for (auto* p : m_panels) p->setBoxMode(boxMode());
        Q_EMIT iouChanged();
    });
    connect(m_class, &QComboBox::activated, this, [this] { Q_EMIT targetChanged(); });
    connect(m_score, &QComboBox::activated, this, [this] { Q_EMIT targetChanged(); });
    m_thresholdLabel->setText(tr("τ = %1 of max").arg(threshold(), 0, 'f', 2));
    for (auto* p : m_panels) {
        p->setThreshold(threshold());
        p->setBlend(m_blend->value() / 100.f);
    }
}

void ExplorerView::setModelInfo(const ModelInfo* info) {
    m_info = info;
    m_taps = info ? info->blockTaps() : std::vector<int>{};
    const QSignalBlocker block(m_layer);
    m_layer->setRange(0, std::max(0, static_cast<int>(m_taps.size()) - 1));
    m_layer->setValue(m_layer->maximum());
    updateLayerLabel();
    m_result.reset();
    refreshClassCombo();
    refreshPanels();
}

void ExplorerView::updateLayerLabel() {
    if (!m_info || m_taps.empty()) {
        m_layerLabel->setText(tr("no model"));
        return;
    }
    const TapInfo& t = m_info->taps[static_cast<std::size_t>(currentTap())];
    m_layerLabel->setText(
        QStringLiteral("%1  (%2), stride %3")
            .arg(QString::fromStdString(t.name), QString::fromStdString(t.kerasName))
            .arg(t.stride));
}

int ExplorerView::currentTap() const {
    if (m_taps.empty()) return -1;
    return m_taps[static_cast<std::size_t>(
        std::clamp(m_layer->value(), 0, static_cast<int>(m_taps.size()) - 1))];
}

float ExplorerView::threshold() const {
    return m_threshold->value() / 100.f;
}
BoxMode ExplorerView::boxMode() const {
    return static_cast<BoxMode>(m_boxMode->currentData().toInt());
}
ScoreKind ExplorerView::scoreKind() const {
    return static_cast<ScoreKind>(m_score->currentData().toInt());
}
int ExplorerView::requestedTarget() const {
    const int v = m_class->currentData().toInt();
    if (v == -2) return m_label;  // ground truth
    return v;
}
int ExplorerView::panelCount() const {
    return m_third->isChecked() ? 3 : 2;
}
Method ExplorerView::panelMethod(int i) const {
    return static_cast<Method>(m_methods[static_cast<std::size_t>(i)]->currentData().toInt());
}

void ExplorerView::setZoom(double zoom) {
    m_zoom = zoom;
    for (auto* p : m_panels) p->setZoom(zoom);
}

void ExplorerView::refreshClassCombo() {
    const QSignalBlocker block(m_class);
    const int previous = m_class->currentData().isValid() ? m_class->currentData().toInt() : -1;
    m_class->clear();
    m_class->addItem(tr("Predicted class"), -1);
    if (m_label >= 0) m_class->addItem(tr("Ground truth"), -2);
    if (m_info) {
        if (m_result)
            for (const auto& c : m_result->explanation.top)
                m_class->addItem(
                    tr("Top: %1 (%2%)")
                        .arg(QString::fromStdString(
                            m_info->classNames[static_cast<std::size_t>(c.classIndex)]))
                        .arg(100.0 * c.probability, 0, 'f', 1),
                    c.classIndex);
        m_class->insertSeparator(m_class->count());
        for (int i = 0; i < m_info->numClasses(); ++i)
            m_class->addItem(
                QString::fromStdString(m_info->classNames[static_cast<std::size_t>(i)]), i);
    }
    const int idx = m_class->findData(previous);
    m_class->setCurrentIndex(idx >= 0 ? idx : 0);
}

void ExplorerView::showPending(const QImage& photo, const std::vector<Box>& truth, bool truthKnown,
                               int label) {
    m_result.reset();
    m_truth = truth;
    m_truthKnown = truthKnown;
    m_label = label;
    for (auto* p : m_panels) {
        p->setPhoto(photo);
        p->setTruth(truth, truthKnown);
        p->setMessage(tr("computing…"));
    }
}

void ExplorerView::showResult(std::shared_ptr<const ExplainResult> result,
                              const std::vector<Box>& truth, bool truthKnown, int label) {
    const bool samePhoto = m_result && result && m_result->key.path == result->key.path;
    m_result = std::move(result);
    m_truth = truth;
    m_truthKnown = truthKnown;
    m_label = label;
    if (m_result) {
        for (auto* p : m_panels) {
            if (!samePhoto) p->setPhoto(m_result->photo);
            p->setTruth(truth, truthKnown);
        }
    }
    refreshClassCombo();
    if (m_info && m_result) {
        QString html;
        for (const auto& c : m_result->explanation.top) {
            const bool isTruth = c.classIndex == m_label;
            html += QStringLiteral("%1%2 %3%%4  ")
                        .arg(isTruth ? "<b>" : "")
                        .arg(QString::fromStdString(
                                 m_info->classNames[static_cast<std::size_t>(c.classIndex)])
                                 .toHtmlEscaped())
                        .arg(100.0 * c.probability, 0, 'f', 1)
                        .arg(isTruth ? "</b>" : "");
        }
        m_top5->setText(html);
    }
    // A new image, class or model: a panel showing Score-CAM needs it computed for this one too.
    requestMissingScoreCam();
    refreshPanels();
}

void ExplorerView::requestMissingScoreCam() {
    if (!m_result) return;
    const int tap = currentTap();
    bool shown = false;
    for (int i = 0; i < panelCount(); ++i) shown = shown || panelMethod(i) == Method::ScoreCam;
    if (!shown || m_result->explanation.find(Method::ScoreCam, tap)) return;
    // Asked once per image, class, score and layer; a result shown again does not restart it.
    const QString want = QStringLiteral("%1|%2|%3|%4")
                             .arg(m_result->key.path)
                             .arg(m_result->key.target)
                             .arg(static_cast<int>(m_result->key.score))
                             .arg(tap);
    if (want == m_scoreCamAsked) return;
    m_scoreCamAsked = want;
    Q_EMIT scoreCamWanted(tap);
}

void ExplorerView::clear() {
    m_result.reset();
    for (auto* p : m_panels) p->setPhoto(QImage());
    m_top5->clear();
}

void ExplorerView::refreshPanels() {
    const int tap = currentTap();
    for (int i = 0; i < 3; ++i) {
        HeatmapPanel* p = m_panels[static_cast<std::size_t>(i)];
        const Method m = panelMethod(i);
        if (!m_result || !m_info) {
            p->setMap(nullptr, m, QString::fromStdString(methodName(m)));
            continue;
        }
        const int useTap = methodTap(m, tap, m_info->lastBlockTap);
        const Heatmap* raw = m_result->explanation.find(m, useTap);
        const TapInfo& t = m_info->taps[static_cast<std::size_t>(useTap)];
        QString title = QStringLiteral("%1 @ %2").arg(QString::fromStdString(methodName(m)),
                                                      QString::fromStdString(t.name));
        if (m == Method::Cam && tap != useTap) title += tr(" (CAM: last block only)");
        p->setMap(raw, m, title);
        if (!raw) p->setMessage(m == Method::ScoreCam ? tr("Score-CAM: computing…") : tr("no map"));
    }
    Q_EMIT iouChanged();
}

ComparisonFigure ExplorerView::figure() const {
    ComparisonFigure f;
    if (!m_info || !m_result || m_panels[0]->photoSize().isEmpty()) return f;
    f.header = figureHeader(*m_info, m_result->explanation, m_label);
    // The plain photo with the ground truth: the panels already hold it as a QImage.
    FigurePanel photo;
    photo.scene.picture = m_panels[0]->photo();
    photo.scene.truth = m_truth;
    photo.scene.truthKnown = m_truthKnown;
    photo.caption = photoCaption(m_truthKnown);
    f.panels.push_back(std::move(photo));
    const int tap = currentTap();
    for (int i = 0; i < panelCount(); ++i) {
        const HeatmapPanel* p = m_panels[static_cast<std::size_t>(i)];
        const Method m = panelMethod(i);
        const int useTap = methodTap(m, tap, m_info->lastBlockTap);
        FigurePanel panel{p->scene(), {}};
        panel.caption = panelCaption(
            m, QString::fromStdString(m_info->taps[static_cast<std::size_t>(useTap)].name),
            threshold(), panel.scene);
        f.panels.push_back(std::move(panel));
    }
    return f;
}

QImage ExplorerView::composedFigure() const {
    const ComparisonFigure f = figure();
    const QSize size = naturalSize(f).toSize();
    if (size.isEmpty()) return {};
    QImage out(size, QImage::Format_RGB888);
    out.fill(Qt::white);
    QPainter p(&out);
    p.setRenderHint(QPainter::Antialiasing, true);
    paintFigure(p, f, QRectF(QPointF(0, 0), QSizeF(size)));
    return out;
}

}  // namespace camx::ui
