"""Activation ranges of the int8 age network (written by benchmarks/local/calibrate_age.py).

MinMax over 63 real faces of the evaluation photos and their mirror images, by tensor
name of the folded float graph (:func:`facekit.local.age_int8.fold_affine_layers`).
"""

from typing import Final

RANGES: Final[dict[str, tuple[float, float]]] = {
    "images": (-0.4796093702316284, 0.588671863079071),
    "layer_11_relu": (0.0, 19.690662384033203),
    "layer_12_left_padded": (0.0, 7.8057050704956055),
    "layer_12_residual_add": (-27.490053176879883, 19.690662384033203),
    "layer_13_averagepool": (0.0, 7.8057050704956055),
    "layer_16_affine": (-27.490053176879883, 19.22694206237793),
    "layer_18_relu": (0.0, 10.104409217834473),
    "layer_19_affine": (-10.9652099609375, 10.104409217834473),
    "layer_1_flatten": (0.0, 14.323471069335938),
    "layer_22_relu": (0.0, 14.146533966064453),
    "layer_23_residual_add": (-8.229207992553711, 14.146533966064453),
    "layer_24_affine": (-8.229207992553711, 11.65852165222168),
    "layer_26_relu": (0.0, 6.195572853088379),
    "layer_27_affine": (-9.588171005249023, 6.195572853088379),
    "layer_2_global_average_pool": (0.0, 14.323471069335938),
    "layer_30_relu": (0.0, 15.470320701599121),
    "layer_31_left_padded": (0.0, 15.470320701599121),
    "layer_31_residual_add": (-11.588602066040039, 15.470320701599121),
    "layer_31_right_padded": (-11.588602066040039, 11.195855140686035),
    "layer_32_averagepool": (0.0, 15.470320701599121),
    "layer_35_affine": (-11.588602066040039, 11.195855140686035),
    "layer_37_relu": (0.0, 9.728742599487305),
    "layer_38_affine": (-10.437393188476562, 9.728742599487305),
    "layer_3_relu": (0.0, 33.669212341308594),
    "layer_41_relu": (0.0, 19.036380767822266),
    "layer_42_residual_add": (-25.864521026611328, 19.036380767822266),
    "layer_43_affine": (-29.589452743530273, 18.444232940673828),
    "layer_45_relu": (0.0, 13.079550743103027),
    "layer_46_affine": (-28.07493019104004, 13.079550743103027),
    "layer_49_maxpool": (0.0, 22.80785369873047),
    "layer_4_residual_add": (-31.465055465698242, 33.669212341308594),
    "layer_50_relu": (0.0, 22.80785369873047),
    "layer_51_affine": (-22.885929107666016, 22.80785369873047),
    "layer_5_affine": (-31.580585479736328, 28.946550369262695),
    "layer_7_relu": (0.0, 4.182530879974365),
    "layer_8_affine": (-10.061833381652832, 4.182530879974365),
    "logits": (-13.481653213500977, 16.584367752075195),
    "probabilities": (2.7481510990468028e-12, 0.9983206391334534),
}
