#pragma once
// The explorer's ground-truth mask outlines (figures/mask_outlines.h), read and traced off the GUI
// thread and cached per image.

#include <QHash>
#include <QObject>
#include <QPolygonF>
#include <QString>
#include <list>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "data/dataset.h"
#include "figures/mask_outlines.h"

namespace camx::ui {

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
