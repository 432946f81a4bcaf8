"""CMResult: the status codes of the Civil Money protocol (seed: civil-money-dht-api.txt, "CMResult Status Codes").

Codes are 32-bit, HRESULT-like: 0x80000000 and above are errors, anything below is a success. Every row of the
seed's table is here under the seed's own name, and DESCRIPTIONS keeps the seed's wording so that a peer's answer
can be explained in logs.
"""

from enum import IntEnum


class CMResult(IntEnum):
    """A status code as it travels in a RES line (``RES 0x80000005 ...``)."""

    S_OK = 0x0
    S_False = 0x1
    S_Item_Transient = 0x2
    E_General_Failure = 0x80000000
    E_Not_Connected = 0x80000001
    E_Timeout_Waiting_On_Reply = 0x80000002
    E_Invalid_Action = 0x80000003
    E_Item_Not_Found = 0x80000004
    E_Invalid_Request = 0x80000005
    E_Not_Enough_Peers = 0x80000006
    E_Invalid_Object_Path = 0x80000007
    E_Object_Superseded = 0x80000008
    E_Max_Hops_Reached = 0x80000009
    E_Connect_Attempt_Timeout = 0x8000000A
    E_Invalid_Search_Date = 0x8000000B
    E_Unknown_API_Version = 0x8000000C
    E_Operation_Cancelled = 0x8000000D
    E_Crypto_Invalid_Password = 0x80001000
    E_Crypto_Unrecognized_SchemeID = 0x80001001
    E_Crypto_Rfc2898_General_Failure = 0x80001002
    E_Crypto_RSA_Signing_General_Failure = 0x80001003
    E_Crypto_RSA_Verify_General_Failure = 0x80001004
    E_Crypto_RSA_Key_Gen_Failure = 0x80001005
    E_Crypto_Invalid_RSA_PrivateKey_TooWeak = 0x80001006
    E_Crypto_Invalid_RSA_PrivateKey_Invalid = 0x80001007
    E_Crypto_Invalid_RSA_PrivateKey_Mismatch = 0x80001008
    E_Account_Missing_Public_Key = 0x80002000
    E_Account_ID_Invalid = 0x80002001
    E_Account_IDs_Are_Readonly = 0x80002002
    E_Account_Created_Utc_Out_Of_Range = 0x80002003
    E_Account_Created_Utc_Is_Readonly = 0x80002004
    E_Account_Updated_Utc_Out_Of_Range = 0x80002005
    E_Account_Updated_Utc_Is_Old = 0x80002006
    E_Account_Too_Few_Public_Keys = 0x80002007
    E_Account_Cant_Corroborate = 0x80002008
    E_Account_Cant_Corroborate_Public_Keys = 0x80002009
    E_Account_Invalid_New_Public_Key_Date = 0x8000200A
    E_Account_Public_Key_Mismatch = 0x8000200B
    E_Account_Public_Key_Signature_Error = 0x8000200C
    E_Account_Signature_Error = 0x8000200D
    E_Account_Invalid_Region = 0x8000200E
    E_Account_Governing_Authority_Attribute_Required = 0x8000200F
    E_Account_Withheld_Private_Key_Required = 0x80002010
    E_Transaction_Payee_Not_Found = 0x80003000
    E_Transaction_Payer_Not_Found = 0x80003001
    E_Transaction_Invalid_Payee_Signature = 0x80003002
    E_Transaction_Invalid_Payer_Signature = 0x80003003
    E_Transaction_Payer_Signature_Required = 0x80003004
    E_Transaction_PayeeID_Required = 0x80003005
    E_Transaction_PayerID_Required = 0x80003006
    E_Transaction_Created_Utc_Out_Of_Range = 0x80003007
    E_Transaction_Payee_Updated_Utc_Out_Of_Range = 0x80003008
    E_Transaction_Payer_Updated_Utc_Out_Of_Range = 0x80003009
    E_Transaction_Amount_Is_Readonly = 0x8000300A
    E_Transaction_Created_Utc_Is_Readonly = 0x8000300B
    E_Transaction_Payee_Is_Readonly = 0x8000300C
    E_Transaction_Payer_Is_Readonly = 0x8000300D
    E_Transaction_Memo_Is_Readonly = 0x8000300E
    E_Transaction_Invalid_Amount = 0x8000300F
    E_Transaction_Payee_Region_Required = 0x80003010
    E_Transaction_Payer_Region_Required = 0x80003011
    E_Transaction_Payee_Region_Is_Readonly = 0x80003012
    E_Transaction_Payer_Region_Is_Readonly = 0x80003013
    E_Transaction_Payer_Accept_Status_Required = 0x80003014
    E_Transaction_Payee_Status_Invalid = 0x80003015
    E_Transaction_Payee_Status_Change_Not_Allowed = 0x80003016
    E_Transaction_Payer_Status_Change_Not_Allowed = 0x80003017
    E_Transaction_Payer_Payee_Must_Differ = 0x80003018
    E_Transaction_Tag_Too_Long = 0x80003019
    E_Transaction_Memo_Too_Long = 0x8000301A
    E_Vote_Account_Not_Found = 0x80004000
    E_Vote_Signature_Error = 0x80004001
    E_Vote_Created_Utc_Out_Of_Range = 0x80004003
    E_Vote_Created_Utc_Is_Readonly = 0x80004004
    E_Vote_Updated_Utc_Out_Of_Range = 0x80004005
    E_Vote_Updated_Utc_Is_Old = 0x80004006

    @property
    def ok(self) -> bool:
        """True for the success codes (below 0x80000000), False for the errors."""
        return self < 0x80000000


# The description column of the seed's table, verbatim.
DESCRIPTIONS: dict[CMResult, str] = {
    CMResult.S_OK: "OK",
    CMResult.S_False: "False",
    CMResult.S_Item_Transient: (
        "At least 1 copy of the item was found, but the minimum number of copies required are not met."
    ),
    CMResult.E_General_Failure: "General failure.",
    CMResult.E_Not_Connected: "The web socket is not currently connected.",
    CMResult.E_Timeout_Waiting_On_Reply: "Time-out waiting on a reply.",
    CMResult.E_Invalid_Action: "Invalid action.",
    CMResult.E_Item_Not_Found: "The item was not found.",
    CMResult.E_Invalid_Request: "Invalid request.",
    CMResult.E_Not_Enough_Peers: "There were not enough available peers to corroborate the request.",
    CMResult.E_Invalid_Object_Path: "The requested GET or PUT path is not valid for the item provided.",
    CMResult.E_Object_Superseded: "A newer version of this item is already being committed.",
    CMResult.E_Max_Hops_Reached: "The maximum number of DHT peer hops have been reached.",
    CMResult.E_Connect_Attempt_Timeout: "Unable to connect to any servers within a reasonable time-out period.",
    CMResult.E_Invalid_Search_Date: "Invalid search date range.",
    CMResult.E_Unknown_API_Version: "Unknown API version.",
    CMResult.E_Operation_Cancelled: "The operation has been cancelled.",
    CMResult.E_Crypto_Invalid_Password: "The specified password didn't work for decryption.",
    CMResult.E_Crypto_Unrecognized_SchemeID: "The account private key scheme ID is not recognised.",
    CMResult.E_Crypto_Rfc2898_General_Failure: "Unable to obtain an encryption key using Rfc2898.",
    CMResult.E_Crypto_RSA_Signing_General_Failure: "Unable to sign the data using RSA.",
    CMResult.E_Crypto_RSA_Verify_General_Failure: "Unable to verify the data using RSA.",
    CMResult.E_Crypto_RSA_Key_Gen_Failure: "Unable to generate an RSA key.",
    CMResult.E_Crypto_Invalid_RSA_PrivateKey_TooWeak: (
        "The provided private key is too weak. It should be at least 1024 bits."
    ),
    CMResult.E_Crypto_Invalid_RSA_PrivateKey_Invalid: "The provided private key data or file is invalid.",
    CMResult.E_Crypto_Invalid_RSA_PrivateKey_Mismatch: (
        "The provided private key data or file doesn't match the account's current public key."
    ),
    CMResult.E_Account_Missing_Public_Key: "No valid public key was found on the account for the specified time.",
    CMResult.E_Account_ID_Invalid: "The account ID is invalid.",
    CMResult.E_Account_IDs_Are_Readonly: "Account IDs are read-only.",
    CMResult.E_Account_Created_Utc_Out_Of_Range: "Created UTC is too far ahead of the server's current time.",
    CMResult.E_Account_Created_Utc_Is_Readonly: "Created UTC is read-only.",
    CMResult.E_Account_Updated_Utc_Out_Of_Range: "Updated UTC is too far ahead of the server's current time.",
    CMResult.E_Account_Updated_Utc_Is_Old: "The account Updated UTC is out-dated. A newer copy exists.",
    CMResult.E_Account_Too_Few_Public_Keys: "The number of public keys specified are less than the existing record's.",
    CMResult.E_Account_Cant_Corroborate: "Unable to corroborate account information with the network.",
    CMResult.E_Account_Cant_Corroborate_Public_Keys: (
        "Unable to corroborate account information with the network. The network's copy has too fewer keys "
        "than the record provided."
    ),
    CMResult.E_Account_Invalid_New_Public_Key_Date: (
        "The newest public key entry must equal the account's Updated UTC when adding new keys."
    ),
    CMResult.E_Account_Public_Key_Mismatch: "One or more public keys do not match the existing account.",
    CMResult.E_Account_Public_Key_Signature_Error: (
        "One of the public keys in the account have an invalid RSA signature."
    ),
    CMResult.E_Account_Signature_Error: "The account RSA signature is invalid.",
    CMResult.E_Account_Invalid_Region: "Invalid account region specified.",
    CMResult.E_Account_Governing_Authority_Attribute_Required: (
        "Account names that are equal to an ISO3166-2 subdivision code require a valid governing authority attribute."
    ),
    CMResult.E_Account_Withheld_Private_Key_Required: (
        "The account uses a withheld private key which has not been provided for signing purposes."
    ),
    CMResult.E_Transaction_Payee_Not_Found: "The payee could not be found on the network.",
    CMResult.E_Transaction_Payer_Not_Found: "The payer could not be found on the network.",
    CMResult.E_Transaction_Invalid_Payee_Signature: "Invalid payee signature.",
    CMResult.E_Transaction_Invalid_Payer_Signature: "Invalid payer signature.",
    CMResult.E_Transaction_Payer_Signature_Required: "The payer's signature is required.",
    CMResult.E_Transaction_PayeeID_Required: "A payee ID is required.",
    CMResult.E_Transaction_PayerID_Required: "A payer ID is required.",
    CMResult.E_Transaction_Created_Utc_Out_Of_Range: (
        "The transaction's Created UTC time is out of range. Please check your device's clock and try again."
    ),
    CMResult.E_Transaction_Payee_Updated_Utc_Out_Of_Range: (
        "The payee's updated UTC time must be greater than Created UTC."
    ),
    CMResult.E_Transaction_Payer_Updated_Utc_Out_Of_Range: (
        "The payer's updated UTC time must be greater than Created UTC."
    ),
    CMResult.E_Transaction_Amount_Is_Readonly: "The transaction amount cannot be altered.",
    CMResult.E_Transaction_Created_Utc_Is_Readonly: "The transaction created UTC cannot be altered.",
    CMResult.E_Transaction_Payee_Is_Readonly: "The transaction payee cannot be altered.",
    CMResult.E_Transaction_Payer_Is_Readonly: "The transaction payer cannot be altered.",
    CMResult.E_Transaction_Memo_Is_Readonly: "The transaction memo cannot be altered.",
    CMResult.E_Transaction_Invalid_Amount: "The transaction amount is invalid.",
    CMResult.E_Transaction_Payee_Region_Required: "A payee region is required.",
    CMResult.E_Transaction_Payer_Region_Required: "A payer region is required.",
    CMResult.E_Transaction_Payee_Region_Is_Readonly: "The payee region is read-only.",
    CMResult.E_Transaction_Payer_Region_Is_Readonly: "The payer region is read-only.",
    CMResult.E_Transaction_Payer_Accept_Status_Required: (
        "The payer status must be set to Accept during initial creation."
    ),
    CMResult.E_Transaction_Payee_Status_Invalid: "The payee status must not be set without the payee's signature.",
    CMResult.E_Transaction_Payee_Status_Change_Not_Allowed: (
        "The new payee status value is not permitted, based on its previous status."
    ),
    CMResult.E_Transaction_Payer_Status_Change_Not_Allowed: (
        "The new payee status value is not permitted, based on its previous status."
    ),
    CMResult.E_Transaction_Payer_Payee_Must_Differ: "The payee and payer must be different accounts.",
    CMResult.E_Transaction_Tag_Too_Long: "The payee and payer tags must be no more than 48 UTF8 bytes in length.",
    CMResult.E_Transaction_Memo_Too_Long: "The memo must be no more than 48 UTF8 bytes in length.",
    CMResult.E_Vote_Account_Not_Found: "The vote account ID was not found.",
    CMResult.E_Vote_Signature_Error: "The vote's signature is invalid.",
    CMResult.E_Vote_Created_Utc_Out_Of_Range: "Created UTC is too far ahead of the server's current time.",
    CMResult.E_Vote_Created_Utc_Is_Readonly: "Created UTC is read-only.",
    CMResult.E_Vote_Updated_Utc_Out_Of_Range: "Updated UTC is too far ahead of the server's current time.",
    CMResult.E_Vote_Updated_Utc_Is_Old: "The vote Updated UTC is out-dated. A newer copy exists.",
}
