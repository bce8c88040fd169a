"""The standard vocabularies EPCIS 2.0 writes as bare words in JSON-LD, and their URI spellings.

GS1's JSON-LD context maps each bare word of a vocabulary-typed field (``"bizStep": "shipping"``) to a term of the
CBV web vocabulary (``https://ref.gs1.org/cbv/BizStep-shipping``) or of the GS1 web vocabulary
(``https://gs1.org/voc/Temperature``). The same term may also arrive as a compact IRI (``cbv:BizStep-shipping``)
or, from EPCIS 1.x systems, as a CBV URN (``urn:epcglobal:cbv:bizstep:shipping``). This module names every
vocabulary, turns any spelling back into the bare word, and a bare word into the URI the event hash needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tracechain._schema import BIZ_STEPS, BIZ_TRANSACTION_TYPES, DISPOSITIONS, SOURCE_DEST_TYPES

__all__ = ["BY_KIND", "CBV", "GS1_VOC", "Vocabulary"]

CBV: Final = "https://ref.gs1.org/cbv/"
GS1_VOC: Final = "https://gs1.org/voc/"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One standard vocabulary: its words and the URI prefixes that spell them in full."""

    name: str
    """What a message calls a value of this vocabulary, e.g. "CBV business step"."""
    words: frozenset[str]
    web: str
    """Prefix of a word's web URI: ``https://ref.gs1.org/cbv/BizStep-`` or ``https://gs1.org/voc/``."""
    urn: str | None = None
    """Prefix of its EPCIS 1.x URN, when it has one."""

    def uri(self, word: str) -> str:
        """The web URI of a bare word of this vocabulary."""
        return self.web + word

    def word(self, value: str, prefixes: dict[str, str] | None = None) -> str | None:
        """The bare word ``value`` spells (bare, compact IRI, web URI or URN), or None if it spells none.

        ``prefixes`` maps compact-IRI prefixes to namespaces; the GS1 ones apply when it is not given.
        """
        if value in self.words:
            return value
        expanded = value
        head, colon, tail = value.partition(":")
        if colon and not tail.startswith("//"):
            namespace = (prefixes or _GS1_VALUE_PREFIXES).get(head)
            if namespace is not None:
                expanded = namespace + tail
        for prefix in (self.web, self.urn):
            if prefix is not None and expanded.startswith(prefix) and expanded[len(prefix) :] in self.words:
                return expanded[len(prefix) :]
        return None

    def is_term_uri(self, value: str) -> bool:
        """Whether ``value`` claims this vocabulary's namespace (so an unknown word there is an error, not a URI)."""
        return value.startswith(self.web) or (self.urn is not None and value.startswith(self.urn))


_GS1_VALUE_PREFIXES: Final = {"cbv": CBV, "gs1": GS1_VOC}

ERROR_REASONS: Final = frozenset({"did_not_occur", "incorrect_data"})
COMPONENTS: Final = frozenset(
    """x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting northing latitude
    longitude altitude""".split()
)
ALERT_TYPES: Final = frozenset({"ALARM_CONDITION", "ERROR_CONDITION"})
# The measurement types EPCIS 2.0's JSON schema and GS1's context accept as bare words (GS1 web vocabulary).
MEASUREMENT_TYPES: Final = frozenset(
    """AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude AmountOfSubstance
    AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum AngularVelocity Area Capacitance
    Conductance Conductivity Count Density Dimensionless DoseEquivalent DoseEquivalentRate DynamicViscosity
    ElectricCharge ElectricCurrent ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force Frequency
    Illuminance Inductance Irradiance KinematicViscosity Length LinearMomentum Luminance LuminousFlux
    LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass MassConcentration MassFlowRate
    MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy MolarMass MolarVolume Power Pressure RadiantFlux
    RadiantIntensity RelativeHumidity Resistance Resistivity SolidAngle SpecificVolume Speed SurfaceDensity
    SurfaceTension Temperature Time Torque Voltage Volume VolumeFlowRate VolumeFraction VolumetricFlux
    Wavenumber""".split()
)

BY_KIND: Final = {
    "bizStep": Vocabulary("CBV business step", BIZ_STEPS, CBV + "BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": Vocabulary("CBV disposition", DISPOSITIONS, CBV + "Disp-", "urn:epcglobal:cbv:disp:"),
    "bizTransactionType": Vocabulary(
        "CBV business transaction type", BIZ_TRANSACTION_TYPES, CBV + "BTT-", "urn:epcglobal:cbv:btt:"
    ),
    "sourceDestType": Vocabulary(
        "CBV source/destination type", SOURCE_DEST_TYPES, CBV + "SDT-", "urn:epcglobal:cbv:sdt:"
    ),
    "errorReason": Vocabulary("CBV error reason", ERROR_REASONS, CBV + "ER-", "urn:epcglobal:cbv:er:"),
    "component": Vocabulary("CBV sensor component", COMPONENTS, CBV + "Comp-"),
    "measurementType": Vocabulary("GS1 measurement type", MEASUREMENT_TYPES, GS1_VOC),
    "alertType": Vocabulary("GS1 sensor alert type", ALERT_TYPES, GS1_VOC),
}
"""Every vocabulary-typed field's vocabulary, by kind."""

URN_TO_WEB: Final = tuple((v.urn, v.web) for v in BY_KIND.values() if v.urn is not None)
"""(URN prefix, web URI prefix) pairs: rule 14 of the hash algorithm rewrites any value starting with the first."""
