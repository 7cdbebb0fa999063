#pragma once
// Ground-truth masks (a segmentation benchmark's images, e.g. OpenImages in wsolevaluation's
// layout) as outlines the panels draw like the ground-truth boxes. The PNGs are read and traced
// off the GUI thread; what comes back is plain polygons in photo pixel coordinates.

#include <QHash>
#include <QObject>
#include <QPolygonF>
#include <QString>
#include <list>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "data/dataset.h"

namespace camx::ui {

struct MaskOutlines {
    std::vector<QPolygonF> instances;  // every instance mask's outer contours
    std::vector<QPolygonF> ignore;     // the image's "ignore" mask, when it has one
    // The masks that could not be read, each with why (the others are still traced).
    QStringList errors;
    bool empty() const { return instances.empty() && ignore.empty(); }
};

// The outer contours of a mask's foreground (pixels of at least half the maximum value), scaled
// by (sx, sy) from mask to photo pixels. `gray` is 8-bit, one channel.
std::vector<QPolygonF> maskContours(const cv::Mat& gray, double sx = 1.0, double sy = 1.0);

// Reads and traces every mask of `sample` (blocking: call it on a worker). Masks of another size
// than the sample's width x height are scaled to it.
MaskOutlines readMaskOutlines(const Sample& sample);

// Reads samples' outlines in the background pool and keeps the latest few, per image path. Lives
// on the GUI thread; never waits for its jobs, which own what they read.
class MaskOutlineLoader : public QObject {
    Q_OBJECT
public:
    explicit MaskOutlineLoader(QObject* parent = nullptr);
    ~MaskOutlineLoader() override;

    // The outlines of `sample` when they are cached; otherwise starts reading them (once per
    // path) and returns null: ready() brings them.
    std::shared_ptr<const MaskOutlines> request(const Sample& sample);
    std::shared_ptr<const MaskOutlines> cached(const QString& imagePath) const;
    // Forgets the cache (another dataset); reads under way report nothing.
    void clear();

Q_SIGNALS:
    void ready(const QString& imagePath, std::shared_ptr<const camx::ui::MaskOutlines> outlines);

private:
    void store(const QString& path, std::shared_ptr<const MaskOutlines> outlines);

    std::list<std::pair<QString, std::shared_ptr<const MaskOutlines>>> m_cache;  // front: newest
    QHash<QString, int> m_pending;  // path -> generation it was asked under
    int m_generation = 0;
    static constexpr std::size_t kCacheSize = 64;
};

}  // namespace camx::ui

Q_DECLARE_METATYPE(std::shared_ptr<const camx::ui::MaskOutlines>)
