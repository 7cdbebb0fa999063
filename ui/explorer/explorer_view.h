#pragma once
// The comparison view: CAM and Grad-CAM (or any two methods) side by side, an optional third
// panel, and the controls that re-render them from cached maps.

#include <QWidget>
#include <memory>
#include <optional>

#include "explain/model_session.h"
#include "explorer/explain_controller.h"
#include "explorer/explorer_metrics.h"
#include "explorer/mask_outline_loader.h"
#include "figures/comparison_figure.h"
#include "localize/boxes.h"

class QSlider;
class QDoubleSpinBox;
class QComboBox;
class QCheckBox;
class QLabel;
class QPainter;
class QTimer;
class QAction;

namespace camx::ui {

class HeatmapPanel;
class ColorScale;
class FaithfulnessChart;

class ExplorerView : public QWidget {
    Q_OBJECT
public:
    explicit ExplorerView(QWidget* parent = nullptr);

    void setModelInfo(const ModelInfo* info);
    // The open dataset's class names (the file line names an image's class by them) and, where
    // the dataset says how an image's single label was chosen, that rule (shown with the class).
    void setDatasetClasses(std::vector<std::string> names, const QString& labelRule = {});
    // A dataset label's class index among the model's classes, matched as the evaluation matches
    // them (by name, else by count); -1 where the model has no such class.
    int modelClass(int datasetLabel) const;
    // Ground-truth mask outlines of the image at `imagePath`, shown whenever that image is (they
    // may arrive before or after its explanation). Null or empty: none.
    void setTruthOutlines(const QString& imagePath, std::shared_ptr<const MaskOutlines> outlines);
    // Whether the panels draw the ground truth: boxes and mask outlines ("Ground truth" box).
    bool truthShown() const;
    void setTruthShown(bool shown);
    // Shows a result; `label` is the ground-truth class (-1 for an external image).
    void showResult(std::shared_ptr<const ExplainResult> result, const std::vector<Box>& truth,
                    bool truthKnown, int label);
    // While an image computes: its thumbnail, truth and, when known, its path and pixel size
    // (the thumbnail is smaller than the photo). The top-5 line says it is computing.
    void showPending(const QImage& photo, const std::vector<Box>& truth, bool truthKnown, int label,
                     const QString& path = {}, QSize size = {});
    // Shows no image: no photo, map, result, top-5 or file line; the class list loses the
    // previous image's entries. `message` (e.g. why an image could not be opened) is shown in
    // the panels instead of "Choose an image".
    void clear(const QString& message = {});

    // The layer shown (a tap id of the model). A ResNet's slider walks its blocks; a TorchScript
    // model's walks every layer whose output is a map, and a searchable list names them.
    int currentTap() const;
    // The taps the layer control offers, in its order.
    const std::vector<int>& layerTaps() const { return m_taps; }
    // Moves the layer control to a tap it offers (false when it does not offer it).
    bool setCurrentTap(int tap);
    float threshold() const;
    float blend() const;
    Colormap colormap() const;
    // The threshold, blend, colour map and box rule as the panels use them (figure export).
    SceneStyle sceneStyle() const;
    BoxMode boxMode() const;
    ScoreKind scoreKind() const;
    // The class to explain: -1 for the prediction.
    int requestedTarget() const;
    HeatmapPanel* panel(int i) const { return m_panels[static_cast<std::size_t>(i)]; }
    int panelCount() const;
    std::shared_ptr<const ExplainResult> result() const { return m_result; }
    // The comparison figure for copy and export: a header (breed, probability, truth), the photo
    // and the visible panels side by side, and under each its method, layer, threshold and IoU.
    // Empty (no panels) until an explanation is shown.
    ComparisonFigure figure() const;
    // The figure at its natural size (clipboard).
    QImage composedFigure() const;
    void setZoom(double zoom);
    double zoom() const { return m_zoom; }

    // The deletion and insertion curves under every panel (View ▸ Faithfulness Curves): while
    // on, each panel's map asks for its curves (curveWanted) whenever it changes.
    bool curvesShown() const;
    void setCurvesShown(bool shown);
    QAction* curvesAction() const { return m_curvesAction; }
    FaithfulnessChart* curveChart(int i) const { return m_charts[static_cast<std::size_t>(i)]; }
    // Curves for the panels: shown where they are still what the panel shows, else dropped.
    void showCurve(std::shared_ptr<const CurveResult> curve);
    // What panel i shows, as a request: its method at its layer (CAM: its own) for the current
    // result. False without a result or map.
    bool panelRequest(int i, CurveRequest* out) const;
    // The sanity check of panel i's map (its context menu, Tools ▸ Sanity Check): emits
    // sanityWanted. False (and nothing emitted) when the panel has no map.
    bool requestSanity(int i);
    // "Grad-CAM @ layer4.1 · class Tiger_Hound · n1_1001.jpg"
    QString describe(Method method, int tap, int target) const;

    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void curveWanted(const camx::ui::CurveRequest& request);
    // The curves were turned off: nothing asked for is wanted any more.
    void curvesCancelled();
    void sanityWanted(const camx::ui::SanityRequest& request);
    // The user picked another class or score kind: a new network pass is needed.
    void targetChanged();
    void scoreCamWanted(int tap);
    // The current result lacks the maps of the layer now shown (a TorchScript model's layers
    // beyond its blocks are explained on demand). Debounced while the slider moves.
    void layerWanted(int tap);
    void iouChanged();

protected:
    // A focused slider keeps the arrow keys from window shortcuts (Page Up/Down, Home and End
    // stay the window's: image navigation).
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refreshPanels();
    // Asks for the curves of every visible panel whose map has none shown or coming.
    void requestMissingCurves();
    void resetCurves(const QString& message);
    // The line over the panels: file name, ground-truth class and pixel size.
    void setImageInfo(const QString& path, int label, QSize size);
    QString className(int label) const;
    QString modelClassName(int cls) const;  // a model class index's name
    // The mask outlines of the image shown, to every panel.
    void applyOutlines();
    // Emits scoreCamWanted when a panel shows Score-CAM and the current result lacks it.
    void requestMissingScoreCam();
    // Schedules layerWanted when a shown method lacks its map at the current layer.
    void requestMissingLayer();
    bool missingLayerMaps() const;
    // CAM's entries in the method pickers: enabled, or disabled with the reason.
    void updateMethodItems();
    bool camUnavailable() const { return m_info && !m_info->camAvailable; }
    QString camUnavailableText() const;
    void refreshClassCombo();
    void updateLayerLabel();
    Method panelMethod(int i) const;

    const ModelInfo* m_info = nullptr;
    QString m_scoreCamAsked;    // image|class|score|tap of the last Score-CAM asked for
    QString m_layerAsked;       // the same for the last layer asked for (layerWanted)
    bool m_everyLayer = false;  // the layer control lists every layer (TorchScript)
    std::shared_ptr<const ExplainResult> m_result;
    std::vector<Box> m_truth;
    bool m_truthKnown = false;
    int m_label = -1;
    QString m_shownPath;  // the image shown or computing
    QString m_outlinesPath;
    std::shared_ptr<const MaskOutlines> m_outlines;
    std::vector<std::string> m_datasetClasses;
    QString m_labelRule;
    // For each dataset label, the model's class index (-1: none), as the evaluation matches them.
    std::vector<int> m_toModel;
    void refreshClassMatch();
    std::vector<int> m_taps;
    double m_zoom = 0;

    QSlider* m_layer;
    QLabel* m_layerLabel;
    QComboBox* m_layerCombo;  // every layer by name, searchable (TorchScript models)
    QTimer* m_layerTimer;     // debounces layerWanted
    QSlider* m_threshold;
    QDoubleSpinBox* m_thresholdSpin;
    QSlider* m_blend;
    QComboBox* m_colormap;
    QComboBox* m_class;
    QComboBox* m_score;
    QComboBox* m_boxMode;
    QCheckBox* m_third;
    QCheckBox* m_showTruth;
    std::vector<QComboBox*> m_methods;
    std::vector<HeatmapPanel*> m_panels;
    QLabel* m_top5;
    QLabel* m_imageInfo;
    ColorScale* m_scale;
    std::vector<FaithfulnessChart*> m_charts;
    QAction* m_curvesAction;
    std::vector<std::optional<CurveRequest>> m_curveAsked, m_curveShown;
    // The curves computed for the image shown (any panel's), so a method picked again shows its
    // curve at once.
    std::vector<std::shared_ptr<const CurveResult>> m_curveCache;
};

}  // namespace camx::ui
