#pragma once
// Downloads a torchvision weights file into the cache, in the background, with progress and
// cancel. The bytes are hashed as they arrive and the file only appears, whole, when its SHA-256
// starts with the digits its published name promises; otherwise nothing is left behind.

#include <QCryptographicHash>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QObject>
#include <QPointer>
#include <QSaveFile>
#include <QUrl>
#include <memory>

namespace camx::ui {

class WeightsDownloader : public QObject {
    Q_OBJECT
public:
    explicit WeightsDownloader(QObject* parent = nullptr);
    ~WeightsDownloader() override;

    // Fetches `url` into `destination`; `hashPrefix` (hex, may be empty) is checked at the end.
    void start(const QUrl& url, const QString& destination, const QString& hashPrefix);
    void cancel();
    bool isRunning() const { return m_reply != nullptr; }

Q_SIGNALS:
    void progress(qint64 received, qint64 total);  // total -1 when unknown
    // `error` is empty on success; it names the address or file and what went wrong.
    void finished(const QString& file, const QString& error);

private:
    void onReadyRead();
    bool consume(QNetworkReply* reply);  // hashes and writes what has arrived
    void onFinished();
    void fail(const QString& error);

    QNetworkAccessManager* m_net;
    QPointer<QNetworkReply> m_reply;
    std::unique_ptr<QSaveFile> m_file;
    QCryptographicHash m_hash{QCryptographicHash::Sha256};
    QString m_destination;
    QString m_prefix;
    QUrl m_url;
    bool m_cancelled = false;
};

}  // namespace camx::ui
