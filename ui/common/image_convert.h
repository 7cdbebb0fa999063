#pragma once
// Between OpenCV's RGB images and Qt's QImage (deep copies: neither side shares memory).

#include <QImage>
#include <opencv2/core/mat.hpp>

namespace camx::ui {

QImage toQImage(const cv::Mat& rgb8);
cv::Mat toRgbMat(const QImage& image);

}  // namespace camx::ui
