"""Training vs Keras 3 (torch backend): the same model, weights, data and settings
learn the same numbers; plus every input kind, multi-output models, weighting,
validation, errors, jit_compile, mixed precision and the progress display."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import torch

import lamina
from lamina.trainers.py_dataset import PyDataset

RNG = np.random.default_rng(0)
N = 48
X_FLAT = RNG.standard_normal((N, 6)).astype("float32")
X_SEQ = RNG.standard_normal((N, 5, 3)).astype("float32")
Y_REG = RNG.standard_normal((N, 2)).astype("float32")
Y_CLS = RNG.integers(0, 3, N)


def _mlp(k, out, activation):
    return k.Sequential(
        [k.Input((6,)), k.layers.Dense(16, activation="tanh"),
         k.layers.Dense(out, activation=activation)]
    )  # fmt: skip


def _conv1d(k, out, activation):
    return k.Sequential(
        [k.Input((5, 3)), k.layers.Conv1D(8, 3, activation="relu"), k.layers.Flatten(),
         k.layers.Dense(out, activation=activation)]
    )  # fmt: skip


def _lstm(k, out, activation):
    return k.Sequential(
        [k.Input((5, 3)), k.layers.LSTM(8), k.layers.Dense(out, activation=activation)]
    )


MODELS = {"mlp": (_mlp, X_FLAT), "conv1d": (_conv1d, X_SEQ), "lstm": (_lstm, X_SEQ)}
LOSSES = {
    "mse": ("mse", Y_REG, 2, None),
    "crossentropy": ("sparse_categorical_crossentropy", Y_CLS, 3, "softmax"),
}
OPTIMIZERS = {
    "sgd": lambda k: k.optimizers.SGD(0.05, momentum=0.9),
    "adam": lambda k: k.optimizers.Adam(0.01),
}


def _pair(build, out, activation):
    theirs = build(keras, out, activation)
    ours = build(lamina, out, activation)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


# Every model meets both optimizers and both losses (a pruned product).
PARITY = [
    *[("mlp", loss, opt) for loss in LOSSES for opt in OPTIMIZERS],
    ("conv1d", "mse", "sgd"),
    ("conv1d", "crossentropy", "adam"),
    ("lstm", "mse", "adam"),
    ("lstm", "crossentropy", "sgd"),
]


@pytest.mark.parametrize("model,loss,optimizer", PARITY)
def test_fit_matches_keras(model, loss, optimizer):
    build, x = MODELS[model]
    loss_name, y, out, activation = LOSSES[loss]
    ours, theirs = _pair(build, out, activation)
    histories = []
    for m, k in ((theirs, keras), (ours, lamina)):
        m.compile(
            OPTIMIZERS[optimizer](k),
            loss_name,
            metrics=["mae" if loss == "mse" else "accuracy"],
        )
        histories.append(
            m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                  validation_data=(x[:16], y[:16])).history
        )  # fmt: skip
    want, got = histories
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-4, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)
    np.testing.assert_allclose(
        ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), atol=1e-4
    )


def _two_heads(k):
    inputs = k.Input((6,), name="features")
    hidden = k.layers.Dense(
        8, activation="tanh", kernel_regularizer=k.regularizers.L2(0.01),
        activity_regularizer=k.regularizers.L1(0.001), name="hidden",
    )(inputs)  # fmt: skip
    reg = k.layers.Dense(2, name="reg")(hidden)
    cls = k.layers.Dense(
        3,
        activation="softmax",
        name="cls",
        kernel_constraint=k.constraints.MaxNorm(0.5),
    )(hidden)
    return k.Model(inputs, [reg, cls])


def test_multi_output_losses_weights_metrics_regularizers_match_keras():
    theirs, ours = _two_heads(keras), _two_heads(lamina)
    ours.set_weights(theirs.get_weights())
    weights = RNG.uniform(0.1, 1, N).astype("float32")
    histories = []
    for m in (theirs, ours):
        m.compile(
            optimizer="adam",
            loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
            loss_weights={"reg": 0.5, "cls": 1.0},
            metrics={"reg": ["mae"], "cls": ["accuracy"]},
            weighted_metrics={"cls": ["accuracy"]},
        )
        histories.append(
            m.fit(X_FLAT, [Y_REG, Y_CLS], sample_weight=weights, batch_size=16,
                  epochs=2, shuffle=False, verbose=0, validation_split=0.25).history
        )  # fmt: skip
    want, got = histories
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-4, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert ours.metrics_names == theirs.metrics_names
    np.testing.assert_allclose(
        ours.evaluate(X_FLAT, [Y_REG, Y_CLS], verbose=0),
        theirs.evaluate(X_FLAT, [Y_REG, Y_CLS], verbose=0),
        atol=1e-4,
    )
    # targets as a dict keyed by output name give the same numbers
    by_name = ours.evaluate(
        X_FLAT, {"reg": Y_REG, "cls": Y_CLS}, return_dict=True, verbose=0
    )
    assert by_name == ours.evaluate(X_FLAT, [Y_REG, Y_CLS], return_dict=True, verbose=0)
    predictions = ours.predict(X_FLAT, batch_size=10, verbose=0)
    assert [p.shape for p in predictions] == [(N, 2), (N, 3)]


def test_class_weight_matches_keras():
    theirs, ours = _pair(_mlp, 3, "softmax")
    histories = []
    for m in (theirs, ours):
        m.compile("sgd", "sparse_categorical_crossentropy", metrics=["acc"])
        histories.append(
            m.fit(X_FLAT, Y_CLS, class_weight={0: 1.0, 1: 3.0}, epochs=2,
                  shuffle=False, verbose=0).history
        )  # fmt: skip
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], atol=1e-5)


def test_on_batch_methods_match_keras():
    ours, theirs = _pair(_mlp, 2, None)
    for m in (ours, theirs):
        m.compile("adam", "mse", metrics=["mae"])
    np.testing.assert_allclose(
        ours.train_on_batch(X_FLAT, Y_REG), theirs.train_on_batch(X_FLAT, Y_REG), 1e-5
    )
    np.testing.assert_allclose(
        ours.test_on_batch(X_FLAT, Y_REG), theirs.test_on_batch(X_FLAT, Y_REG), 1e-5
    )
    np.testing.assert_allclose(
        ours.predict_on_batch(X_FLAT), theirs.predict_on_batch(X_FLAT), atol=1e-5
    )
    logs = ours.train_on_batch(X_FLAT, Y_REG, return_dict=True)
    assert sorted(logs) == ["loss", "mae"] and all(
        isinstance(v, float) for v in logs.values()
    )


def _reference_fit(**kwargs):
    torch.manual_seed(0)
    model = _mlp(lamina, 3, "softmax")
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(**kwargs, epochs=2, verbose=0)
    return model.get_weights()


def test_every_input_kind_trains_the_same():
    want = _reference_fit(x=X_FLAT, y=Y_CLS, batch_size=16, shuffle=False)

    def generator():
        for _ in range(2):
            for start in range(0, N, 16):
                yield X_FLAT[start : start + 16], Y_CLS[start : start + 16]

    class Batches:  # keras.utils.PyDataset protocol
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return X_FLAT[16 * i : 16 * i + 16], Y_CLS[16 * i : 16 * i + 16]

    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(X_FLAT), torch.from_numpy(Y_CLS)
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=16)
    kinds = {
        "tensors": {"x": torch.from_numpy(X_FLAT), "y": torch.from_numpy(Y_CLS)},
        "lists": {"x": X_FLAT.tolist(), "y": Y_CLS.tolist()},
        "generator": {"x": generator(), "steps_per_epoch": 3},
        "pydataset": {"x": Batches(), "shuffle": False},
        "dataloader": {"x": loader},
        "dataset": {"x": dataset, "shuffle": False},
    }
    for name, kwargs in kinds.items():
        kwargs.setdefault("batch_size", 16) if name in (
            "tensors",
            "lists",
            "dataset",
        ) else None
        kwargs.setdefault("shuffle", False)
        got = _reference_fit(**kwargs)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, atol=1e-6, err_msg=name)


def test_dict_inputs_are_matched_by_input_name():
    a, b = lamina.Input((2,), name="a"), lamina.Input((3,), name="b")
    merged = lamina.layers.Dense(1)(lamina.layers.Flatten()(b))
    model = lamina.Model([a, b], [lamina.layers.Dense(1)(a), merged])
    x = {"b": X_FLAT[:, :3], "a": X_FLAT[:, 3:5]}
    by_dict = model.predict(x, verbose=0)
    by_list = model.predict([X_FLAT[:, 3:5], X_FLAT[:, :3]], verbose=0)
    np.testing.assert_array_equal(by_dict[0], by_list[0])
    np.testing.assert_array_equal(by_dict[1], by_list[1])


def test_validation_and_steps_per_epoch():
    model = _mlp(lamina, 2, None)
    model.compile("sgd", "mse")
    history = model.fit(X_FLAT, Y_REG, validation_split=0.25, epochs=1, verbose=0,
                        shuffle=False)  # fmt: skip
    val = model.evaluate(X_FLAT[36:], Y_REG[36:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val, rel=1e-6)
    history = model.fit(X_FLAT, Y_REG, batch_size=8, steps_per_epoch=2, epochs=4,
                        verbose=0, validation_data=(X_FLAT, Y_REG), validation_freq=2)  # fmt: skip
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2
    assert int(model.optimizer.iterations) == 2 + 8  # ceil(36 / 32) + 4 epochs * 2


def test_dropout_acts_only_in_training_and_losses_enter():
    model = lamina.Sequential(
        [lamina.Input((6,)), lamina.layers.Dense(8), lamina.layers.Dropout(0.9),
         lamina.layers.Dense(1)]
    )  # fmt: skip
    model.compile("sgd", "mse")
    np.testing.assert_array_equal(
        model.predict(X_FLAT, verbose=0), model.predict(X_FLAT, verbose=0)
    )
    train_loss = model.train_on_batch(X_FLAT, Y_REG[:, :1])
    assert train_loss != pytest.approx(
        model.test_on_batch(X_FLAT, Y_REG[:, :1]), rel=1e-3
    )

    class WithLoss(lamina.layers.Layer):
        def call(self, x):
            self.add_loss(torch.tensor(100.0))
            return x

    extra = lamina.Sequential([lamina.Input((6,)), WithLoss(), lamina.layers.Dense(1)])
    extra.compile("sgd", "mse")
    assert extra.evaluate(X_FLAT, Y_REG[:, :1], verbose=0) > 100.0


def test_bad_input_errors_name_what_was_given():
    model = _mlp(lamina, 3, "softmax")
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError,
        match=r"Sequential '\w+'\.fit\(\): the arrays of `x`, `y` and "
        r"`sample_weight` must have the same number of samples \(first axis\); "
        r"got 48 in x, 47 in y\.",
    ):
        model.fit(X_FLAT, Y_CLS[:-1], verbose=0)
    with pytest.raises(
        ValueError,
        match=r"Sequential '\w+', output 'dense_\d+': sparse_categorical_crossentropy: "
        r"labels must be class ids in \[0, 3\).*got labels in \[0, 5\]",
    ):
        model.fit(X_FLAT, np.where(Y_CLS == 2, 5, Y_CLS), verbose=0)
    model.compile("adam", "mse")
    with pytest.raises(
        ValueError,
        match=r"Sequential '\w+': the targets `y` of output 'dense_\d+' \(shape "
        r"\(32, 3\)\) must fit loss 'mse'; got y of shape \(32, 4\)",
    ):
        model.fit(X_FLAT, np.zeros((N, 4)), verbose=0)
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'"):
        model.compile("adamm", "mse")
    with pytest.raises(
        ValueError, match="Unknown loss: 'mean_square_error'. Did you mean"
    ):
        model.compile("adam", "mean_square_error")
    with pytest.raises(ValueError, match="Unknown metric: 'accuracyy'"):
        model.compile("adam", "mse", metrics=["accuracyy"])
    with pytest.raises(
        ValueError,
        match=r"\.fit\(\): `class_weight` and `sample_weight` cannot both be given "
        r"\(fold the class weights into `sample_weight`\); got class_weight=\{0: 1\} "
        r"and sample_weight of shape \(48,\)\.",
    ):
        model.fit(
            X_FLAT, Y_REG, class_weight={0: 1}, sample_weight=np.ones(N), verbose=0
        )
    with pytest.raises(
        ValueError,
        match=r"Sequential '\w+'\.fit\(\): the model must be compiled first; "
        r"call `compile\(\)` before `fit\(\)`\.",
    ):
        _mlp(lamina, 2, None).fit(X_FLAT, Y_REG)
    with pytest.raises(
        ValueError,
        match=r"\.fit\(\): `validation_split` must leave samples on both sides; "
        r"got validation_split=0\.5 for 1 samples",
    ):
        model.fit(X_FLAT[:1], Y_REG[:1], validation_split=0.5, verbose=0)


def _two_outputs(loss="mse", **compile_kwargs):
    inputs = lamina.Input((6,))
    outputs = [lamina.layers.Dense(2, name="a")(inputs),
               lamina.layers.Dense(3, name="b")(inputs)]  # fmt: skip
    model = lamina.Model(inputs, outputs, name="two")
    model.compile("sgd", loss, **compile_kwargs)
    return model


def _one_output(**compile_kwargs):
    model = lamina.Sequential(
        [lamina.Input((6,)), lamina.layers.Dense(2, name="out")], name="one"
    )
    model.compile("sgd", compile_kwargs.pop("loss", "mse"), **compile_kwargs)
    return model


Y_TWO = [Y_REG, np.ones((N, 3), "float32")]


def _unbuilt():
    model = lamina.Sequential([lamina.layers.Dense(2)], name="lazy")
    model.compile("sgd", "mse")
    return model


def _generator(batches=1):
    return ((X_FLAT, Y_REG) for _ in range(batches))


# (what is done, the exception, the message): each names the model and method (or
# the function), the argument, the rule and the value given.
TRAINER_ERRORS = {
    "steps_per_execution": (
        lambda: _one_output(steps_per_execution=0),
        r"Sequential 'one'\.compile\(\): `steps_per_execution` must be an integer "
        r">= 1; got steps_per_execution=0\.",
    ),
    "no loss": (
        lambda: _one_output(loss=None).fit(X_FLAT, Y_REG, verbose=0),
        r"Sequential 'one'\.compute_loss\(\): `loss` must be given to `compile\(\)` "
        r"when the model adds no losses of its own; got loss=None\.",
    ),
    "evaluate keyword": (
        lambda: _one_output().evaluate(X_FLAT, Y_REG, verbose=0, foo=1),
        r"Sequential 'one'\.evaluate\(\): every keyword must be an argument of "
        r"`evaluate\(\)`; got unrecognized foo=1\.",
    ),
    "validation_freq": (
        lambda: _one_output().fit(X_FLAT, Y_REG, verbose=0, validation_freq=0),
        r"Sequential 'one'\.fit\(\): `validation_freq` must be an integer >= 1 or a "
        r"list of epochs; got validation_freq=0\.",
    ),
    "steps_per_epoch": (
        lambda: _one_output().fit(X_FLAT, Y_REG, verbose=0, steps_per_epoch=0),
        r"'one'\.fit\(\): `steps_per_epoch` must be None or an integer >= 1; "
        r"got steps_per_epoch=0\.",
    ),
    "validation_steps": (
        lambda: _one_output().fit(
            X_FLAT,
            Y_REG,
            verbose=0,
            validation_data=(X_FLAT, Y_REG),
            validation_steps=0,
        ),  # fmt: skip
        r"'one'\.fit\(\): `validation_steps` must be None or an integer >= 1; "
        r"got validation_steps=0\.",
    ),
    "predict steps": (
        lambda: _one_output().predict(X_FLAT, verbose=0, steps=0),
        r"'one'\.predict\(\): `steps` must be None or an integer >= 1; got steps=0",
    ),
    "validation_data": (
        lambda: _one_output().fit(
            X_FLAT, Y_REG, verbose=0, validation_data=(X_FLAT, Y_REG, None, None)
        ),
        r"'one'\.fit\(\): `validation_data` must be `x`, `\(x,\)`, `\(x, y\)` or "
        r"`\(x, y, sample_weight\)`; got a tuple of 4 elements\.",
    ),
    "ragged x": (
        lambda: _one_output().fit([[1.0, 2.0], [3.0]], verbose=0),
        r"'one'\.fit\(\): `x` must be an array, or numbers \(rows of one length\) "
        r"that make one; got a list whose elements have mixed types or lengths\.",
    ),
    "train_on_batch cardinality": (
        lambda: _one_output().train_on_batch(X_FLAT, Y_REG[:-1]),
        r"'one'\.train_on_batch\(\): the arrays of `x`, `y` and `sample_weight` "
        r"must have the same number of samples \(first axis\); got 48 in x, 47 in y",
    ),
    "train_on_batch weights": (
        lambda: _one_output().train_on_batch(
            X_FLAT, Y_REG, sample_weight=np.ones(N), class_weight={0: 1}
        ),
        r"'one'\.train_on_batch\(\): `class_weight` and `sample_weight` cannot both",
    ),
    "empty data": (
        lambda: _one_output().predict(_generator(0), verbose=0),
        r"Sequential 'one'\.predict\(\): `x` must yield at least one batch; got "
        r"no batches \(empty data\)\.",
    ),
    "empty data, unbuilt model": (
        lambda: _unbuilt().fit(_generator(0), verbose=0),
        r"Sequential 'lazy'\.fit\(\): `x` must yield at least one batch",
    ),
    "class_weight, several outputs": (
        lambda: _two_outputs().fit(X_FLAT, Y_TWO, class_weight={0: 1}, verbose=0),
        r"Functional 'two'\.fit\(\): `class_weight` must be None for a model with "
        r"several outputs \(`y` is a list\); got class_weight=\{0: 1\}\.",
    ),
    "class_weight, rank 3": (
        lambda: _one_output().fit(
            X_FLAT, np.ones((N, 2, 2)), class_weight={0: 1}, verbose=0
        ),
        r"'one'\.fit\(\): `y` must be class ids \(rank 1\) or one-hot \(rank 2\) "
        r"to use `class_weight`; got y of shape \(48, 2, 2\)\.",
    ),
    "validation_split of a generator": (
        lambda: _one_output().fit(_generator(), validation_split=0.5, verbose=0),
        r"'one'\.fit\(\): `validation_split` needs arrays or tensors \(pass "
        r"`validation_data` for other data\); got validation_split=0\.5 with data "
        r"of type generator\.",
    ),
    "y beside a generator": (
        lambda: _one_output().fit(_generator(), Y_REG, verbose=0),
        r"'one'\.fit\(\): `y` must be None when `x` is a generator, which yields "
        r"the targets and weights itself; got x of type generator with `y`\.",
    ),
    "loss keys": (
        lambda: _two_outputs({"a": "mse", "c": "mse"}).fit(X_FLAT, Y_TWO, verbose=0),
        r"Functional 'two'\.compile\(\): `loss` must be keyed by model output names "
        r"\['a', 'b'\]; got loss=\{'a': 'mse', 'c': 'mse'\}, whose keys \['c'\] "
        r"are not outputs\.",
    ),
    "loss list": (
        lambda: _two_outputs(["mse"]).fit(X_FLAT, Y_TWO, verbose=0),
        r"'two'\.compile\(\): `loss` must have one entry per model output "
        r"\(2: \['a', 'b'\]\); got 1 entries: loss=\['mse'\]\.",
    ),
    "loss_weights": (
        lambda: _two_outputs(loss_weights="x"),
        r"'two'\.compile\(\): `loss_weights` must be a float, a list or a dict; "
        r"got loss_weights='x'\.",
    ),
    "no output has a loss": (
        lambda: _two_outputs([None, None]).fit(X_FLAT, Y_TWO, verbose=0),
        r"'two'\.compile\(\): `loss` must be set for at least one model output; "
        r"got loss=\[None, None\]\.",
    ),
    "weighted_metrics list": (
        lambda: _two_outputs(weighted_metrics=["mae"] * 3).fit(
            X_FLAT, Y_TWO, verbose=0
        ),
        r"'two'\.compile\(\): `weighted_metrics` must have one entry per model "
        r"output \(2: \['a', 'b'\]\); got 3 entries",
    ),
    "metrics not a list": (
        lambda: _one_output(metrics="mae"),
        r"'one'\.compile\(\): `metrics` must be a list or a dict \(wrap a single "
        r"metric in a list: metrics=\['mae'\]\); got metrics='mae'\.",
    ),
    "metric None": (
        lambda: _one_output(metrics=[None]).fit(X_FLAT, Y_REG, verbose=0),
        r"'one'\.compile\(\): `metrics` must hold metric names, functions or Metric "
        r"instances; got None\.",
    ),
    "y keys": (
        lambda: _two_outputs().fit(X_FLAT, {"a": Y_REG, "z": Y_REG}, verbose=0),
        r"Functional 'two': `y` must be keyed by the model outputs \['a', 'b'\]; "
        r"got a dict with keys \['a', 'z'\]\.",
    ),
    "y count": (
        lambda: _two_outputs().fit(X_FLAT, Y_TWO * 2, verbose=0),
        r"Functional 'two': `y` must hold one array per model output "
        r"\(2: \['a', 'b'\]\); got 4 array\(s\)\.",
    ),
    "no targets": (
        lambda: _one_output().fit(X_FLAT, verbose=0),
        r"Sequential 'one': `y` must hold targets for output 'out', which has a "
        r"loss; got no targets for it\.",
    ),
    "unpack_x_y_sample_weight": (
        lambda: lamina.trainers.data_adapters.unpack_x_y_sample_weight((1, 2, 3, 4)),
        r"unpack_x_y_sample_weight: `data` must be `x`, `\(x,\)`",
    ),
}


@pytest.mark.parametrize("case", TRAINER_ERRORS)
def test_trainer_errors_name_owner_argument_rule_and_value(case):
    action, match = TRAINER_ERRORS[case]
    with pytest.raises(ValueError, match=match):
        action()


def test_class_weight_beside_a_generator_warns_naming_fit():
    model = _one_output()
    data = iter([(X_FLAT, Y_REG)])
    with pytest.warns(UserWarning, match=r"'one'\.fit\(\): `class_weight` is ignored"):
        model.fit(data, class_weight={0: 1}, verbose=0)


def test_py_dataset_without_len_names_its_class():
    class Batches(PyDataset):
        pass

    with pytest.raises(NotImplementedError, match="Batches: a PyDataset must"):
        len(Batches())


def test_jit_compile_matches_eager():
    eager, compiled = (_mlp(lamina, 2, None) for _ in range(2))
    compiled.set_weights(eager.get_weights())
    eager.compile("adam", "mse")
    compiled.compile("adam", "mse", jit_compile=True)
    a = eager.fit(X_FLAT, Y_REG, batch_size=16, epochs=2, shuffle=False, verbose=0)
    b = compiled.fit(X_FLAT, Y_REG, batch_size=16, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(b.history["loss"], a.history["loss"], rtol=1e-5)
    for p, q in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(p, q, atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_float32_weights(policy):
    lamina.mixed_precision.set_global_policy(policy)
    try:
        model = lamina.Sequential(
            [lamina.Input((6,)), lamina.layers.Dense(32, activation="relu"),
             lamina.layers.Dense(3, activation="softmax", dtype="float32")]
        )  # fmt: skip
        model.compile("adam", "sparse_categorical_crossentropy")
    finally:
        lamina.mixed_precision.set_global_policy(None)
    assert model.layers[0].compute_dtype == policy.split("_")[1]
    assert all(w.dtype == torch.float32 for w in model.weights)
    scaled = policy == "mixed_float16"
    assert isinstance(model.optimizer, lamina.optimizers.LossScaleOptimizer) == scaled
    history = model.fit(X_FLAT, Y_CLS, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(X_FLAT[:4], verbose=0).dtype == np.float32


def test_progress_display_formats(capsys):
    model = _mlp(lamina, 2, None)
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(X_FLAT, Y_REG, batch_size=16, epochs=2, verbose=1, validation_split=0.25)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2" and len(out) == 4
    assert re.fullmatch(
        r"3/3 ━{20} \d+s \d+[um]?s/step - loss: \d\.\d{4} - mae: \d\.\d{4} - "
        r"val_loss: \d\.\d{4} - val_mae: \d\.\d{4}",
        out[1],
    ), out[1]
    model.fit(X_FLAT, Y_REG, batch_size=16, epochs=1, verbose=2)
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(
        r"3/3 - \d+s - \d+[um]?s/step - loss: \d\.\d{4} - mae: \d\.\d{4}", line
    )
    model.evaluate(X_FLAT, Y_REG, verbose=0)
    model.predict(X_FLAT, verbose=0)
    assert capsys.readouterr().out == ""
    model.predict(X_FLAT)
    assert re.fullmatch(
        r"2/2 ━{20} \d+s \d+[um]?s/step", capsys.readouterr().out.strip()
    )


def test_custom_train_step_keras_torch_style():
    class Custom(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = lamina.layers.Dense(2)
            self.tracker = lamina.metrics.Mean(name="custom_loss")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            loss.backward()
            weights = self.trainable_weights
            with torch.no_grad():
                self.optimizer.apply([w.grad for w in weights], weights)
            self.tracker.update_state(loss)
            return {"custom_loss": self.tracker.result()}

    model = Custom()
    model.compile("sgd", "mse")
    history = model.fit(X_FLAT, Y_REG, epochs=3, verbose=0)
    assert list(history.history) == ["custom_loss"]
    assert history.history["custom_loss"][-1] < history.history["custom_loss"][0]


def test_compile_config_round_trip():
    model = _mlp(lamina, 3, "softmax")
    model.compile(lamina.optimizers.Adam(0.02), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    config = model.get_compile_config()
    other = _mlp(lamina, 3, "softmax")
    other.compile_from_config(config)
    assert other.optimizer.get_config()["learning_rate"] == pytest.approx(0.02)
    assert other.loss == "sparse_categorical_crossentropy"
    keras_model = _mlp(keras, 3, "softmax")
    keras_model.compile_from_config(config)
    assert keras_model.optimizer.learning_rate.numpy() == pytest.approx(0.02)


def test_compute_loss_overrides_without_training_get_no_training_argument():
    """Published examples override compute_loss(self, x, y, y_pred, sample_weight)
    (earlier Keras 3 releases); Keras passes `training` only to overrides that take
    it, and so does lamina."""
    import keras

    seen = []

    def make(base):
        class Penalized(base):
            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
                seen.append(base.__module__.split(".")[0])
                loss = super().compute_loss(x, y, y_pred, sample_weight)
                return loss + 0.0 * y_pred.sum()

        return Penalized

    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    y = np.random.default_rng(1).random((8, 1)).astype("float32")
    for library in (lamina, keras):
        inputs = library.Input((3,))
        model = make(library.Model)(inputs, library.layers.Dense(1)(inputs))
        model.compile("sgd", "mse")
        model.fit(x, y, epochs=1, verbose=0)
        model.evaluate(x, y, verbose=0)
    assert seen.count("lamina") == 2  # one fit batch, one evaluate batch
    assert seen.count("keras") >= 2
