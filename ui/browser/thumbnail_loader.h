#pragma once
// Thumbnails decoded off the GUI thread, newest request first, kept in a bounded cache.
// Requests for rows scrolled past long ago are dropped rather than decoded.

#include <QCache>
#include <QImage>
#include <QMutex>
#include <QObject>
#include <QSet>
#include <QThreadPool>
#include <deque>

namespace camx::ui {

class ThumbnailLoader : public QObject {
    Q_OBJECT
public:
    explicit ThumbnailLoader(int size = 112, int cacheMegabytes = 48, QObject* parent = nullptr);
    ~ThumbnailLoader() override;

    // The cached thumbnail, or a null image after queueing its decode.
    QImage thumbnail(int key, const QString& path);
    void clear();
    int size() const { return m_size; }
    // For tests: block until every queued decode has finished.
    void waitForIdle();

Q_SIGNALS:
    void thumbnailReady(int key);

private:
    void drain();

    int m_size;
    QThreadPool m_pool;
    QMutex m_mutex;
    QCache<int, QImage> m_cache;                  // guarded by m_mutex
    QSet<int> m_pending;                          // guarded by m_mutex
    std::deque<std::pair<int, QString>> m_queue;  // guarded by m_mutex; back = newest
    int m_generation = 0;
};

}  // namespace camx::ui
