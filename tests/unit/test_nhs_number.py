from bcf.transforms import nhs_number


def test_check_digit_known_valid_numbers() -> None:
    # 943 476 5919 is the NHS Digital documentation example; 401 023 2137 is another published test number.
    assert nhs_number.is_valid("9434765919")
    assert nhs_number.is_valid("943 476 5919")
    assert nhs_number.is_valid("4010232137")


def test_check_digit_rejects_wrong_digit_length_and_remainder_ten() -> None:
    assert not nhs_number.is_valid("9434765918")
    assert not nhs_number.is_valid("943476591")
    assert not nhs_number.is_valid("94347659190")
    assert not nhs_number.is_valid("94347659A9")
    # 100000001x: the weighted sum gives check digit 10, which no valid number can have
    assert nhs_number.check_digit("100000001") is None
    assert not any(nhs_number.is_valid(f"100000001{d}") for d in range(10))


def test_mask_keeps_last_four_only() -> None:
    assert nhs_number.mask("9434765919") == "******5919"
    assert nhs_number.mask("") == ""
    assert nhs_number.mask("12") == "12"


def test_pseudonym_is_keyed_stable_and_ignores_spaces() -> None:
    a = nhs_number.pseudonym("9434765919", b"k1")
    assert a == nhs_number.pseudonym("943 476 5919", b"k1")
    assert a != nhs_number.pseudonym("9434765919", b"k2")
    assert "9434765919" not in a and len(a) == 32


def test_generated_nhs_numbers_are_all_valid() -> None:
    import numpy as np

    from bcf.devtools.synthetic import valid_nhs_numbers

    numbers = valid_nhs_numbers(np.random.default_rng(1), 5000)
    assert len(numbers) == 5000
    assert all(nhs_number.is_valid(n) for n in numbers)


def test_vectorised_check_agrees_with_the_scalar_one() -> None:
    import random

    rng = random.Random(3)
    values = ["9434765919", "943 476 5919", "9434765918", "", "abc", "94347659190", "0000000000", "1000000010"]
    values += [f"{rng.randrange(10**10):010d}" for _ in range(5000)]
    assert nhs_number.valid_mask(values) == [nhs_number.is_valid(v) for v in values]
