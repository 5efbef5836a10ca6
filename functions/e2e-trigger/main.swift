import E2ETrigger
import SwitchyardRuntime

FunctionMain.run(E2ETrigger())
