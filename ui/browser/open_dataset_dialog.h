#pragma once
// File ▸ Open Dataset…: the folder, its format (Automatic, or one of the readers) and, for
// wsolevaluation's metadata, the metadata folder, which that format needs. While Automatic is
// chosen the dialog says what the folder looks like (found off the GUI thread). The last
// answers are the next dialog's (QSettings "paths/lastDataset", "open/format",
// "paths/lastWsolMetadata"), and each folder opened with a chosen format is reopened with it
// (Recent Datasets, the next start).

#include <QDialog>
#include <QString>

#include "data/dataset.h"

class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QTimer;

namespace camx::ui {

// What to open and how.
struct DatasetChoice {
    QString dir;
    DatasetFormat format = DatasetFormat::Auto;
    QString metadataDir;  // wsolevaluation's metadata folder (format Wsol only)

    // The reader's options: the format and, for Wsol, the metadata folder.
    OpenOptions options() const;
    // How `dir` was last opened successfully with a chosen format; Auto otherwise.
    static DatasetChoice rememberedFor(const QString& dir);
    // Keeps this choice for its folder (an Auto choice forgets any earlier one).
    void remember() const;
};

class OpenDatasetDialog : public QDialog {
    Q_OBJECT
public:
    // Starts from the last answers given.
    explicit OpenDatasetDialog(QWidget* parent = nullptr);
    ~OpenDatasetDialog() override;

    void setChoice(const DatasetChoice& choice);
    DatasetChoice choice() const;
    // Why Open is disabled ("Choose the dataset folder", ...), empty when it is enabled.
    QString problem() const;
    // What the folder looks like (Automatic only): "Detected: CUB-200-2011", or why it is
    // none of the formats. Empty while that is being found out.
    QString detectedText() const;

    // Stores the answers as the next dialog's (done on Open).
    void saveAnswers() const;

    void accept() override;

protected:
    void showEvent(QShowEvent* e) override;

Q_SIGNALS:
    // The folder was looked at (detectedText() has the outcome).
    void detectionFinished();

private:
    void updateState();
    void fitHeight();
    void startDetection();
    void browseFolder();
    void browseMetadata();

    QLineEdit* m_folder;
    QComboBox* m_format;
    QLineEdit* m_metadata;
    QWidget* m_metadataRow;
    QFormLayout* m_form;
    QLabel* m_description;
    QLabel* m_detected;
    QLabel* m_problem;
    QDialogButtonBox* m_buttons;
    QTimer* m_detectTimer;
    int m_detectGeneration = 0;
    QString m_detectedText;
};

}  // namespace camx::ui
