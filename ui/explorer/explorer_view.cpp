#include "explorer/explorer_view.h"

#include <QAbstractItemView>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QSignalBlocker>
#include <QSlider>
#include <QStandardItemModel>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>

#include "eval/evaluator.h"
#include "explorer/faithfulness_chart.h"
#include "explorer/heatmap_panel.h"

namespace camx::ui {

namespace {
QSlider* slider(int lo, int hi, int value, const QString& name) {
    auto* s = new QSlider(Qt::Horizontal);
    s->setRange(lo, hi);
    s->setValue(value);
    s->setObjectName(name);
    s->setFocusPolicy(Qt::StrongFocus);  // Tab and click; the arrows then move it
    s->setMinimumWidth(100);
    return s;
}

QString layerText(const TapInfo& t) {
    if (t.kerasName.empty())
        return QStringLiteral("%1, stride %2").arg(QString::fromStdString(t.name)).arg(t.stride);
    return QStringLiteral("%1  (%2), stride %3")
        .arg(QString::fromStdString(t.name), QString::fromStdString(t.kerasName))
        .arg(t.stride);
}

// Up to this many layers the slider has a tick per layer; beyond, ticks would be a grey bar.
constexpr int kMaxTicks = 40;

// A one-line label that elides its text to the width it gets instead of asking for it all
// (the whole text stays in text() and the tool tip).
class ElidedLabel : public QLabel {
public:
    using QLabel::QLabel;
    QSize minimumSizeHint() const override {
        return {fontMetrics().horizontalAdvance(QStringLiteral("…")) * 8,
                QLabel::minimumSizeHint().height()};
    }
    QSize sizeHint() const override {
        return {QLabel::sizeHint().width(), QLabel::sizeHint().height()};
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        const QRect r = contentsRect();
        p.setPen(palette().color(foregroundRole()));
        p.drawText(r, static_cast<int>(alignment()) | Qt::TextSingleLine,
                   fontMetrics().elidedText(text(), Qt::ElideMiddle, r.width()));
    }
};
}  // namespace

ExplorerView::ExplorerView(QWidget* parent) : QWidget(parent) {
    m_layer = slider(0, 0, 0, QStringLiteral("layerSlider"));
    m_layer->setTickPosition(QSlider::TicksBelow);
    m_layer->setPageStep(1);
    m_layerLabel = new QLabel;
    m_layerLabel->setObjectName(QStringLiteral("layerLabel"));
    // A TorchScript model lists every layer (often hundreds) by module path: the slider moves
    // through them, the list names the one shown and finds one by any part of its name.
    m_layerCombo = new QComboBox;
    m_layerCombo->setObjectName(QStringLiteral("layerCombo"));
    m_layerCombo->setEditable(true);
    m_layerCombo->setInsertPolicy(QComboBox::NoInsert);
    m_layerCombo->setMaxVisibleItems(20);
    m_layerCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_layerCombo->setMinimumContentsLength(18);
    m_layerCombo->lineEdit()->setPlaceholderText(tr("Find a layer…"));
    auto* completer = new QCompleter(m_layerCombo->model(), m_layerCombo);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchContains);
    completer->setCompletionMode(QCompleter::PopupCompletion);
    completer->setMaxVisibleItems(15);
    m_layerCombo->setCompleter(completer);
    m_layerCombo->setVisible(false);
    m_layerTimer = new QTimer(this);
    m_layerTimer->setSingleShot(true);
    m_layerTimer->setInterval(150);
    m_threshold = slider(0, 100, 20, QStringLiteral("thresholdSlider"));
    m_threshold->setPageStep(10);
    m_thresholdSpin = new QDoubleSpinBox;
    m_thresholdSpin->setObjectName(QStringLiteral("thresholdSpin"));
    m_thresholdSpin->setRange(0.0, 1.0);
    m_thresholdSpin->setDecimals(2);
    m_thresholdSpin->setSingleStep(0.01);
    m_thresholdSpin->setPrefix(QStringLiteral("τ "));
    m_thresholdSpin->setSuffix(tr(" of max"));
    m_thresholdSpin->setValue(m_threshold->value() / 100.0);
    m_thresholdSpin->setToolTip(tr("Threshold τ: the mask keeps the map above τ × its maximum"));
    m_blend = slider(0, 100, 50, QStringLiteral("blendSlider"));
    m_blend->setPageStep(10);
    m_colormap = new QComboBox;
    m_colormap->setObjectName(QStringLiteral("colormapCombo"));
    for (Colormap c : allColormaps())
        m_colormap->addItem(QString::fromStdString(colormapName(c)), static_cast<int>(c));
    m_class = new QComboBox;
    m_class->setObjectName(QStringLiteral("classCombo"));
    // The 120 breeds' longest name does not set the width: the row must fit a small window.
    m_class->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_class->setMinimumContentsLength(18);
    m_score = new QComboBox;
    m_score->setObjectName(QStringLiteral("scoreCombo"));
    m_score->addItem(tr("Logit (paper)"), static_cast<int>(ScoreKind::Logit));
    m_score->addItem(tr("Probability (course)"), static_cast<int>(ScoreKind::Probability));
    m_score->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_score->setMinimumContentsLength(18);
    m_boxMode = new QComboBox;
    m_boxMode->setObjectName(QStringLiteral("boxModeCombo"));
    m_boxMode->addItem(tr("Largest component (CAM paper)"), static_cast<int>(BoxMode::Largest));
    m_boxMode->addItem(tr("Best of all components (WSOL)"), static_cast<int>(BoxMode::BestOfAll));
    m_boxMode->addItem(tr("First contour (course)"), static_cast<int>(BoxMode::CourseContour));
    m_boxMode->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_boxMode->setMinimumContentsLength(18);
    m_third = new QCheckBox(tr("Third panel"));
    m_third->setObjectName(QStringLiteral("thirdPanel"));
    m_showTruth = new QCheckBox(tr("&Ground truth"));
    m_showTruth->setObjectName(QStringLiteral("showTruthCheck"));
    m_showTruth->setChecked(true);
    m_showTruth->setToolTip(
        tr("Draw the ground truth: its boxes and, where the dataset has them, its masks' "
           "outlines (the IoU is shown either way)"));
    for (QSlider* s : {m_layer, m_threshold, m_blend}) s->installEventFilter(this);

    // Three rows: a slider with its value (fixed widths: nothing moves as the values change),
    // then a picker. Fits the explorer's ~950 px next to the dataset dock at 1280 × 720.
    auto* controls = new QGridLayout;
    auto label = [](const QString& text, QWidget* buddy) {
        auto* l = new QLabel(text);
        l->setBuddy(buddy);
        return l;
    };
    controls->addWidget(label(tr("&Layer"), m_layer), 0, 0);
    controls->addWidget(m_layer, 0, 1);
    auto* layerName = new QHBoxLayout;
    layerName->addWidget(m_layerLabel);
    layerName->addWidget(m_layerCombo);
    controls->addLayout(layerName, 0, 2);
    controls->addWidget(label(tr("&Threshold"), m_threshold), 1, 0);
    controls->addWidget(m_threshold, 1, 1);
    controls->addWidget(m_thresholdSpin, 1, 2, Qt::AlignLeft);
    controls->addWidget(label(tr("&Blend"), m_blend), 2, 0);
    controls->addWidget(m_blend, 2, 1);
    auto* colours = new QHBoxLayout;
    colours->addWidget(label(tr("Colo&urs"), m_colormap));
    colours->addWidget(m_colormap);
    colours->addStretch(1);
    controls->addLayout(colours, 2, 2);
    controls->addWidget(label(tr("&Class"), m_class), 0, 4);
    controls->addWidget(m_class, 0, 5);
    controls->addWidget(label(tr("&Score"), m_score), 1, 4);
    controls->addWidget(m_score, 1, 5);
    controls->addWidget(label(tr("Bo&x"), m_boxMode), 2, 4);
    controls->addWidget(m_boxMode, 2, 5);
    controls->setColumnMinimumWidth(3, 6);
    controls->setColumnStretch(1, 4);
    controls->setColumnStretch(5, 3);

    // The image: its file, class and size, and the prediction's top five.
    m_imageInfo = new ElidedLabel;
    m_imageInfo->setObjectName(QStringLiteral("imageInfo"));
    m_imageInfo->setAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    QFont bold = m_imageInfo->font();
    bold.setBold(true);
    m_imageInfo->setFont(bold);
    m_imageInfo->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    m_top5 = new QLabel;
    m_top5->setTextFormat(Qt::RichText);
    m_top5->setObjectName(QStringLiteral("top5"));
    m_top5->setWordWrap(true);
    m_top5->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_top5->setMinimumHeight(m_top5->fontMetrics().height());  // the panels stay put when empty
    auto* infoRow = new QHBoxLayout;
    infoRow->addWidget(m_imageInfo, 1);
    infoRow->addWidget(m_showTruth);
    infoRow->addWidget(m_third);

    m_curvesAction = new QAction(tr("&Faithfulness Curves"), this);
    m_curvesAction->setObjectName(QStringLiteral("curvesAction"));
    m_curvesAction->setCheckable(true);
    m_curvesAction->setStatusTip(
        tr("Under each panel, the deletion and insertion curves of its map for the image shown "
           "(computed in the background)"));
    m_curveAsked.resize(3);
    m_curveShown.resize(3);
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
        auto* chart = new FaithfulnessChart;
        chart->setObjectName(QStringLiteral("curveChart%1").arg(i));
        chart->setVisible(false);
        m_charts.push_back(chart);
        col->addWidget(chart);
        panel->setContextMenuPolicy(Qt::ActionsContextMenu);
        panel->addAction(m_curvesAction);
        auto* sanity = new QAction(tr("Sanity Check: Randomise the Model…"), panel);
        sanity->setObjectName(QStringLiteral("sanityAction%1").arg(i));
        sanity->setStatusTip(
            tr("Explain this image again with this method and layer while the model's layers "
               "are re-initialised one by one, from the output back (Adebayo et al., 2018)"));
        connect(sanity, &QAction::triggered, this, [this, i] { requestSanity(i); });
        panel->addAction(sanity);
        auto* holder = new QWidget;
        holder->setLayout(col);
        col->setContentsMargins(0, 0, 0, 0);
        panels->addWidget(holder, 1);
        if (i == 2) holder->setVisible(false);
        connect(combo, &QComboBox::currentIndexChanged, this, [this] {
            m_scoreCamAsked.clear();  // picked by hand: ask again even if asked before
            updateMethodItems();
            requestMissingScoreCam();
            refreshPanels();
        });
    }

    m_scale = new ColorScale;
    m_scale->setObjectName(QStringLiteral("colorScale"));
    m_scale->setMaximumWidth(420);
    auto* scaleRow = new QHBoxLayout;
    scaleRow->addStretch(1);
    scaleRow->addWidget(m_scale, 2);
    scaleRow->addStretch(1);

    auto* layout = new QVBoxLayout(this);
    layout->setSpacing(4);
    layout->addLayout(controls);
    layout->addSpacing(2);
    layout->addLayout(infoRow);
    layout->addWidget(m_top5);
    layout->addLayout(panels, 1);
    layout->addLayout(scaleRow);

    connect(m_curvesAction, &QAction::toggled, this, [this](bool on) {
        for (int i = 0; i < 3; ++i) m_charts[static_cast<std::size_t>(i)]->setVisible(on);
        if (!on) {
            for (auto& a : m_curveAsked) a.reset();
            Q_EMIT curvesCancelled();
        }
        requestMissingCurves();
    });
    connect(m_showTruth, &QCheckBox::toggled, this, [this](bool on) {
        for (auto* p : m_panels) p->setShowTruth(on);
    });
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
    connect(m_layerCombo, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i >= 0 && i != m_layer->value()) m_layer->setValue(i);
    });
    // Typed text that names no layer goes back to the layer shown.
    connect(m_layerCombo->lineEdit(), &QLineEdit::editingFinished, this, [this] {
        const int i = m_layerCombo->findText(m_layerCombo->currentText());
        if (i >= 0 && i != m_layer->value())
            m_layer->setValue(i);
        else if (i < 0)
            m_layerCombo->setEditText(m_layerCombo->itemText(m_layer->value()));
    });
    connect(m_layerTimer, &QTimer::timeout, this, [this] {
        if (!m_result || !missingLayerMaps()) return;
        const int tap = currentTap();
        m_layerAsked = QStringLiteral("%1|%2|%3|%4")
                           .arg(m_result->key.path)
                           .arg(m_result->key.target)
                           .arg(static_cast<int>(m_result->key.score))
                           .arg(tap);
        Q_EMIT layerWanted(tap);
    });
    connect(m_threshold, &QSlider::valueChanged, this, [this](int v) {
        // Not while the user types into the spin box: setting it would rewrite the text and
        // move the cursor under their fingers.
        if (std::lround(m_thresholdSpin->value() * 100.0) != v) {
            const QSignalBlocker block(m_thresholdSpin);
            m_thresholdSpin->setValue(v / 100.0);
        }
        for (auto* p : m_panels) p->setThreshold(threshold());
        m_scale->setThreshold(threshold());
        Q_EMIT iouChanged();
    });
    // The spin box is the slider's exact view: it moves the slider, which re-renders.
    connect(m_thresholdSpin, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { m_threshold->setValue(static_cast<int>(std::lround(v * 100.0))); });
    connect(m_blend, &QSlider::valueChanged, this, [this](int v) {
        for (auto* p : m_panels) p->setBlend(v / 100.f);
    });
    connect(m_colormap, &QComboBox::currentIndexChanged, this, [this] {
        for (auto* p : m_panels) p->setColormap(colormap());
        m_scale->setColormap(colormap());
    });
    connect(m_boxMode, &QComboBox::currentIndexChanged, this, [this] {
        for (auto* p : m_panels) p->setBoxMode(boxMode());
        Q_EMIT iouChanged();
    });
    connect(m_class, &QComboBox::activated, this, [this] { Q_EMIT targetChanged(); });
    connect(m_score, &QComboBox::activated, this, [this] { Q_EMIT targetChanged(); });
    for (auto* p : m_panels) {
        p->setThreshold(threshold());
        p->setBlend(blend());
    }
    m_scale->setThreshold(threshold());
    m_scale->setColormap(colormap());
    updateLayerLabel();
    setImageInfo({}, -1, {});
    // Every panel names its own method from the start, with or without a model.
    refreshPanels();
}

bool ExplorerView::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::ShortcutOverride && qobject_cast<QSlider*>(watched)) {
        auto* key = static_cast<QKeyEvent*>(event);
        const auto mods = key->modifiers() & ~Qt::KeypadModifier;
        switch (key->key()) {
            case Qt::Key_Left:
            case Qt::Key_Right:
            case Qt::Key_Up:
            case Qt::Key_Down:
                if (mods == Qt::NoModifier) {
                    event->accept();  // a key press for the slider, not a shortcut
                    return true;
                }
                break;
            default:
                break;
        }
    }
    return QWidget::eventFilter(watched, event);
}

QSize ExplorerView::minimumSizeHint() const {
    // What the layout needs, and never less than room for two readable panels.
    return QWidget::minimumSizeHint().expandedTo(QSize(640, 460));
}

void ExplorerView::setModelInfo(const ModelInfo* info) {
    m_info = info;
    refreshClassMatch();
    m_everyLayer = info && info->torchScript;
    m_taps.clear();
    if (m_everyLayer)
        for (int t = 0; t < static_cast<int>(info->taps.size()); ++t) m_taps.push_back(t);
    else if (info)
        m_taps = info->blockTaps();
    {
        const QSignalBlocker block(m_layer);
        const QSignalBlocker blockList(m_layerCombo);
        m_layer->setRange(0, std::max(0, static_cast<int>(m_taps.size()) - 1));
        m_layer->setTickPosition(static_cast<int>(m_taps.size()) > kMaxTicks ? QSlider::NoTicks
                                                                             : QSlider::TicksBelow);
        // Page Up/Down belong to the window; a long list moves by tens with the mouse.
        m_layer->setPageStep(static_cast<int>(m_taps.size()) > kMaxTicks ? 10 : 1);
        m_layerCombo->clear();
        int longest = 0;
        const QFontMetrics fm = m_layerCombo->fontMetrics();
        if (m_everyLayer)
            for (int t : m_taps) {
                const TapInfo& tap = info->taps[static_cast<std::size_t>(t)];
                const QString name = QString::fromStdString(tap.name);
                m_layerCombo->addItem(name, t);
                m_layerCombo->setItemData(
                    m_layerCombo->count() - 1,
                    tr("%1: %2 channels, stride %3").arg(name).arg(tap.channels).arg(tap.stride),
                    Qt::ToolTipRole);
                longest = std::max(longest, fm.horizontalAdvance(name));
            }
        // The list opens as wide as its longest name (within reason); the field stays put.
        m_layerCombo->view()->setMinimumWidth(std::min(longest + 40, 640));
        if (m_everyLayer && m_layerCombo->completer())
            m_layerCombo->completer()->popup()->setMinimumWidth(std::min(longest + 40, 640));
        // The default layer: the last block, or a TorchScript model's CAM layer (else its last
        // map).
        int start = m_layer->maximum();
        if (m_everyLayer) {
            const auto it = std::find(m_taps.begin(), m_taps.end(), info->lastBlockTap);
            if (it != m_taps.end()) start = static_cast<int>(it - m_taps.begin());
        }
        m_layer->setValue(start);
    }
    m_layerLabel->setVisible(!m_everyLayer);
    m_layerCombo->setVisible(m_everyLayer);
    m_layerAsked.clear();
    m_layerTimer->stop();
    updateLayerLabel();
    updateMethodItems();
    m_result.reset();
    // Another model: curves asked for or computed with the old one are not this one's.
    resetCurves(tr("Faithfulness curve: waiting for the map…"));
    refreshClassCombo();
    refreshPanels();
}

bool ExplorerView::setCurrentTap(int tap) {
    const auto it = std::find(m_taps.begin(), m_taps.end(), tap);
    if (it == m_taps.end()) return false;
    m_layer->setValue(static_cast<int>(it - m_taps.begin()));
    return true;
}

QString ExplorerView::camUnavailableText() const {
    if (!camUnavailable()) return {};
    return tr("CAM is not available for this model: %1")
        .arg(QString::fromStdString(m_info->camUnavailableReason));
}

void ExplorerView::updateMethodItems() {
    const QString why = camUnavailableText();
    for (QComboBox* combo : m_methods) {
        auto* items = qobject_cast<QStandardItemModel*>(combo->model());
        const int i = combo->findData(static_cast<int>(Method::Cam));
        if (!items || i < 0) continue;
        QStandardItem* cam = items->item(i);
        cam->setEnabled(why.isEmpty());
        cam->setToolTip(why);
        combo->setToolTip(why.isEmpty() || combo->currentIndex() != i ? QString() : why);
    }
}

void ExplorerView::updateLayerLabel() {
    if (m_everyLayer && !m_taps.empty()) {
        // The list names the layer, at one width per model (the row never re-lays out as the
        // slider moves): its longest name, from the width of the label it replaces up to a
        // third more; longer names scroll in the field and show whole in the list and tooltip.
        const int base = m_layerLabel->fontMetrics().horizontalAdvance(
                             QStringLiteral("layer3.35  (conv4_block36_out), stride 16")) +
                         4;
        int longest = 0;
        for (int tap : m_taps)
            longest = std::max(longest,
                               m_layerCombo->fontMetrics().horizontalAdvance(QString::fromStdString(
                                   m_info->taps[static_cast<std::size_t>(tap)].name)));
        m_layerCombo->setFixedWidth(std::clamp(longest + 48, base, base * 4 / 3));
        const QSignalBlocker block(m_layerCombo);
        const int i = std::clamp(m_layer->value(), 0, std::max(0, m_layerCombo->count() - 1));
        m_layerCombo->setCurrentIndex(i);
        const TapInfo& t = m_info->taps[static_cast<std::size_t>(currentTap())];
        QString tip = tr("%1: %2 channels, stride %3 (layer %4 of %5)")
                          .arg(QString::fromStdString(t.name))
                          .arg(t.channels)
                          .arg(t.stride)
                          .arg(i + 1)
                          .arg(m_taps.size());
        if (currentTap() == m_info->lastBlockTap)
            tip += m_info->camAvailable ? tr("; the layer CAM uses") : tr("; the last map");
        tip += tr(". Type part of a name to find a layer.");
        m_layerCombo->setToolTip(tip);
        m_layer->setToolTip(tip);
        return;
    }
    m_layer->setToolTip({});
    // One width for every text it can show (the longest of this model's and of ResNet-152's),
    // so the row never re-lays out under the mouse as the slider moves.
    const QFontMetrics fm = m_layerLabel->fontMetrics();
    int width =
        std::max(fm.horizontalAdvance(QStringLiteral("layer3.35  (conv4_block36_out), stride 16")),
                 fm.horizontalAdvance(tr("no model")));
    if (m_info)
        for (int tap : m_taps)
            width = std::max(width, fm.horizontalAdvance(
                                        layerText(m_info->taps[static_cast<std::size_t>(tap)])));
    m_layerLabel->setFixedWidth(width + 4);
    if (!m_info || m_taps.empty()) {
        m_layerLabel->setText(tr("no model"));
        return;
    }
    m_layerLabel->setText(layerText(m_info->taps[static_cast<std::size_t>(currentTap())]));
}

int ExplorerView::currentTap() const {
    if (m_taps.empty()) return -1;
    return m_taps[static_cast<std::size_t>(
        std::clamp(m_layer->value(), 0, static_cast<int>(m_taps.size()) - 1))];
}

float ExplorerView::threshold() const {
    return m_threshold->value() / 100.f;
}
float ExplorerView::blend() const {
    return m_blend->value() / 100.f;
}
Colormap ExplorerView::colormap() const {
    return static_cast<Colormap>(m_colormap->currentData().toInt());
}
SceneStyle ExplorerView::sceneStyle() const {
    SceneStyle s;
    s.tau = threshold();
    s.blend = blend();
    s.colormap = colormap();
    s.mode = boxMode();
    return s;
}
BoxMode ExplorerView::boxMode() const {
    return static_cast<BoxMode>(m_boxMode->currentData().toInt());
}
ScoreKind ExplorerView::scoreKind() const {
    return static_cast<ScoreKind>(m_score->currentData().toInt());
}
int ExplorerView::requestedTarget() const {
    const int v = m_class->currentData().toInt();
    if (v == -2) return modelClass(m_label);  // ground truth (-1, the prediction, without one)
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
    if (modelClass(m_label) >= 0) m_class->addItem(tr("Ground truth"), -2);
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

void ExplorerView::setDatasetClasses(std::vector<std::string> names, const QString& labelRule) {
    m_datasetClasses = std::move(names);
    m_labelRule = labelRule;
    refreshClassMatch();
}

void ExplorerView::refreshClassMatch() {
    m_toModel.clear();
    if (!m_info) return;
    // Without the dataset's names, labels are the model's class indices.
    m_toModel = matchClasses(m_datasetClasses.empty() ? m_info->classNames : m_datasetClasses,
                             m_info->classNames)
                    .toModel;
}

int ExplorerView::modelClass(int label) const {
    return label >= 0 && label < static_cast<int>(m_toModel.size())
               ? m_toModel[static_cast<std::size_t>(label)]
               : -1;
}

bool ExplorerView::truthShown() const {
    return m_showTruth->isChecked();
}

void ExplorerView::setTruthShown(bool shown) {
    m_showTruth->setChecked(shown);
}

void ExplorerView::setTruthOutlines(const QString& imagePath,
                                    std::shared_ptr<const MaskOutlines> outlines) {
    m_outlinesPath = imagePath;
    m_outlines = std::move(outlines);
    applyOutlines();
}

void ExplorerView::applyOutlines() {
    const bool mine = m_outlines && !m_shownPath.isEmpty() && m_outlinesPath == m_shownPath;
    for (auto* p : m_panels)
        p->setTruthOutlines(mine ? m_outlines->instances : std::vector<QPolygonF>{},
                            mine ? m_outlines->ignore : std::vector<QPolygonF>{});
}

QString ExplorerView::className(int label) const {
    if (label < 0) return {};
    // The dataset's own name for its label (the model's classes may be other ones).
    if (label < static_cast<int>(m_datasetClasses.size()))
        return QString::fromStdString(m_datasetClasses[static_cast<std::size_t>(label)]);
    if (m_info && label < m_info->numClasses())
        return QString::fromStdString(m_info->classNames[static_cast<std::size_t>(label)]);
    return tr("class %1").arg(label);
}

void ExplorerView::setImageInfo(const QString& path, int label, QSize size) {
    if (path.isEmpty()) {
        m_imageInfo->setText(tr("No image"));
        m_imageInfo->setToolTip({});
        return;
    }
    QStringList parts{QFileInfo(path).fileName()};
    parts << (label >= 0 ? className(label) : tr("no ground truth"));
    parts << (size.isEmpty() ? tr("size: reading…")
                             : tr("%1 × %2 px").arg(size.width()).arg(size.height()));
    // How the dataset chose the image's one label, where that is not obvious (VOC).
    if (label >= 0 && !m_labelRule.isEmpty()) parts << tr("label: %1").arg(m_labelRule);
    m_imageInfo->setText(parts.join(QStringLiteral("  ·  ")));
    m_imageInfo->setToolTip(QDir::toNativeSeparators(path) +
                            (label >= 0 && !m_labelRule.isEmpty()
                                 ? QLatin1Char('\n') + tr("label: %1").arg(m_labelRule)
                                 : QString()));
}

void ExplorerView::showPending(const QImage& photo, const std::vector<Box>& truth, bool truthKnown,
                               int label, const QString& path, QSize size) {
    m_result.reset();
    m_truth = truth;
    m_truthKnown = truthKnown;
    m_label = label;
    m_shownPath = path;
    resetCurves(tr("Faithfulness curve: waiting for the map…"));
    for (auto* p : m_panels) {
        p->setPhoto(photo);
        p->setTruth(truth, truthKnown);
        p->setMessage(tr("computing…"));
    }
    applyOutlines();
    // Not the previous image's classes while this one computes.
    m_top5->setText(
        QStringLiteral("<span style=\"color:gray\">%1</span>").arg(tr("Top 5: computing…")));
    setImageInfo(path, label, size);
    refreshClassCombo();
}

void ExplorerView::showResult(std::shared_ptr<const ExplainResult> result,
                              const std::vector<Box>& truth, bool truthKnown, int label) {
    const bool samePhoto = m_result && result && m_result->key.path == result->key.path;
    if (!m_result || !result || !(m_result->key == result->key))
        resetCurves(tr("Faithfulness curve: waiting for the map…"));
    m_result = std::move(result);
    m_truth = truth;
    m_truthKnown = truthKnown;
    m_label = label;
    if (m_result) {
        m_shownPath = m_result->key.path;
        for (auto* p : m_panels) {
            if (!samePhoto) p->setPhoto(m_result->photo);
            p->setTruth(truth, truthKnown);
        }
        applyOutlines();
    }
    refreshClassCombo();
    if (m_result)
        setImageInfo(m_result->key.path, label, QSize(m_result->photo.cols, m_result->photo.rows));
    m_top5->clear();
    if (m_info && m_result) {
        QString html = tr("Top 5:") + QStringLiteral("  ");
        for (const auto& c : m_result->explanation.top) {
            const bool isTruth = c.classIndex == modelClass(m_label);
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

void ExplorerView::clear(const QString& message) {
    m_result.reset();
    m_truth.clear();
    m_truthKnown = false;
    m_label = -1;
    m_shownPath.clear();
    m_outlinesPath.clear();
    m_outlines.reset();
    m_scoreCamAsked.clear();
    resetCurves(tr("Faithfulness curve: no image"));
    for (auto* p : m_panels) {
        p->setPhoto(QImage());
        p->setTruth({}, false);
    }
    applyOutlines();
    refreshPanels();  // every panel back to its plain method name
    for (auto* p : m_panels) p->setMessage(message);
    m_top5->clear();
    setImageInfo({}, -1, {});
    refreshClassCombo();
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
        if (m == Method::Cam && camUnavailable()) {
            // No map, and why: the picker offers CAM no more, but the default set starts with it.
            p->setMap(nullptr, m, tr("CAM: not available"));
            p->setMessage(camUnavailableText());
            continue;
        }
        const int useTap = methodTap(m, tap, m_info->lastBlockTap);
        const Heatmap* raw = m_result->explanation.find(m, useTap);
        const TapInfo& t = m_info->taps[static_cast<std::size_t>(useTap)];
        QString title = QStringLiteral("%1 @ %2").arg(QString::fromStdString(methodName(m)),
                                                      QString::fromStdString(t.name));
        if (m == Method::Cam && tap != useTap)
            title += m_info->torchScript ? tr(" (CAM: its pooled layer only)")
                                         : tr(" (CAM: last block only)");
        p->setMap(raw, m, title);
        if (!raw)
            p->setMessage(m == Method::ScoreCam ? tr("Score-CAM: computing…")
                          : m_everyLayer        ? tr("computing this layer…")
                                                : tr("no map"));
    }
    requestMissingLayer();
    requestMissingCurves();
    Q_EMIT iouChanged();
}

bool ExplorerView::curvesShown() const {
    return m_curvesAction->isChecked();
}

void ExplorerView::setCurvesShown(bool shown) {
    m_curvesAction->setChecked(shown);
}

void ExplorerView::resetCurves(const QString& message) {
    m_curveCache.clear();
    for (int i = 0; i < 3; ++i) {
        m_curveAsked[static_cast<std::size_t>(i)].reset();
        m_curveShown[static_cast<std::size_t>(i)].reset();
        m_charts[static_cast<std::size_t>(i)]->showMessage(message);
    }
}

bool ExplorerView::panelRequest(int i, CurveRequest* out) const {
    if (!m_result || !m_info || i < 0 || i >= 3) return false;
    const Method m = panelMethod(i);
    if (m == Method::Cam && camUnavailable()) return false;
    const int tap = methodTap(m, currentTap(), m_info->lastBlockTap);
    if (tap < 0 || !m_result->explanation.find(m, tap)) return false;
    *out = CurveRequest{m_result->key, m, tap, i};
    return true;
}

void ExplorerView::requestMissingCurves() {
    if (!curvesShown()) return;
    for (int i = 0; i < panelCount(); ++i) {
        const auto slot = static_cast<std::size_t>(i);
        FaithfulnessChart* chart = m_charts[slot];
        CurveRequest want;
        if (!panelRequest(i, &want)) {
            m_curveAsked[slot].reset();
            m_curveShown[slot].reset();
            chart->showMessage(m_result ? tr("Faithfulness curve: no map") : chart->message());
            continue;
        }
        if (m_curveShown[slot] == want || m_curveAsked[slot] == want) continue;
        // Computed already for this image by any panel: shown at once.
        bool found = false;
        for (const auto& c : m_curveCache) {
            CurveRequest r = c->request;
            r.slot = i;
            if (r == want) {
                m_curveShown[slot] = want;
                m_curveAsked[slot].reset();
                chart->showCurve(*c, modelClassName(c->target));
                found = true;
                break;
            }
        }
        if (found) continue;
        m_curveAsked[slot] = want;
        m_curveShown[slot].reset();
        chart->showMessage(tr("Faithfulness curve: computing…"));
        Q_EMIT curveWanted(want);
    }
}

void ExplorerView::showCurve(std::shared_ptr<const CurveResult> curve) {
    if (!curve || !m_result || !(curve->request.image == m_result->key)) return;
    if (curve->error.isEmpty()) m_curveCache.push_back(curve);
    const int i = curve->request.slot;
    if (i < 0 || i >= 3) return;
    const auto slot = static_cast<std::size_t>(i);
    CurveRequest now;
    if (!panelRequest(i, &now) || !(now == curve->request)) return;  // the panel moved on
    m_curveAsked[slot].reset();
    m_curveShown[slot] = now;
    m_charts[slot]->showCurve(*curve, modelClassName(curve->target));
}

QString ExplorerView::modelClassName(int cls) const {
    if (m_info && cls >= 0 && cls < m_info->numClasses())
        return QString::fromStdString(m_info->classNames[static_cast<std::size_t>(cls)]);
    return tr("class %1").arg(cls);
}

QString ExplorerView::describe(Method method, int tap, int target) const {
    QStringList parts;
    QString what = QString::fromStdString(methodName(method));
    if (m_info && tap >= 0 && tap < static_cast<int>(m_info->taps.size()))
        what += QStringLiteral(" @ ") +
                QString::fromStdString(m_info->taps[static_cast<std::size_t>(tap)].name);
    parts << what;
    if (target >= 0) parts << tr("class %1").arg(modelClassName(target));
    if (m_result) parts << QFileInfo(m_result->key.path).fileName();
    return parts.join(QStringLiteral("  ·  "));
}

bool ExplorerView::requestSanity(int i) {
    CurveRequest r;
    if (!panelRequest(i, &r)) return false;
    Q_EMIT sanityWanted(SanityRequest{r.image, r.method, r.tap});
    return true;
}

bool ExplorerView::missingLayerMaps() const {
    if (!m_result || !m_info) return false;
    const int tap = currentTap();
    if (tap < 0) return false;
    for (int i = 0; i < panelCount(); ++i) {
        const Method m = panelMethod(i);
        if (m == Method::Cam || m == Method::ScoreCam) continue;  // CAM: its own layer
        if (!m_result->explanation.find(m, tap)) return true;
    }
    return false;
}

void ExplorerView::requestMissingLayer() {
    if (!missingLayerMaps()) {
        m_layerTimer->stop();
        return;
    }
    const QString want = QStringLiteral("%1|%2|%3|%4")
                             .arg(m_result->key.path)
                             .arg(m_result->key.target)
                             .arg(static_cast<int>(m_result->key.score))
                             .arg(currentTap());
    if (want == m_layerAsked) return;  // asked already; its maps are on their way
    m_layerTimer->start();             // (re)started while the slider moves
}

ComparisonFigure ExplorerView::figure() const {
    ComparisonFigure f;
    if (!m_info || !m_result || m_panels[0]->photoSize().isEmpty()) return f;
    f.header = figureHeader(*m_info, m_result->explanation,
                            TruthClass{className(m_label), modelClass(m_label)});
    f.name = QFileInfo(m_result->key.path).fileName();
    f.colormap = colormap();
    // The plain photo with the ground truth: the panels already hold it as a QImage.
    FigurePanel photo;
    photo.scene.picture = m_panels[0]->photo();
    photo.scene.truth = m_truth;
    photo.scene.truthKnown = m_truthKnown;
    photo.scene.truthOutlines = m_panels[0]->scene().truthOutlines;
    photo.scene.ignoreOutlines = m_panels[0]->scene().ignoreOutlines;
    photo.scene.showTruth = truthShown();
    photo.caption =
        photoCaption(truthShown() && (m_truthKnown || !photo.scene.truthOutlines.empty()));
    f.panels.push_back(std::move(photo));
    const int tap = currentTap();
    for (int i = 0; i < panelCount(); ++i) {
        const HeatmapPanel* p = m_panels[static_cast<std::size_t>(i)];
        const Method m = panelMethod(i);
        if (m == Method::Cam && camUnavailable()) continue;  // nothing to show
        const int useTap = methodTap(m, tap, m_info->lastBlockTap);
        FigurePanel panel{p->scene(), {}, {}};
        panel.caption = panelCaption(
            m, QString::fromStdString(m_info->taps[static_cast<std::size_t>(useTap)].name),
            threshold(), panel.scene);
        // The faithfulness curves shown under the panel go under its picture too.
        const auto& shown = m_curveShown[static_cast<std::size_t>(i)];
        if (curvesShown() && shown)
            for (const auto& c : m_curveCache)
                if (c->request.image == shown->image && c->request.method == shown->method &&
                    c->request.tap == shown->tap) {
                    panel.curves.deletion = c->deletion;
                    panel.curves.insertion = c->insertion;
                    panel.curves.deletionAuc = c->deletionAuc;
                    panel.curves.insertionAuc = c->insertionAuc;
                    panel.curves.probability = c->options.score == MetricScore::Probability;
                    break;
                }
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
